using Lumina.Checkpoints;
using Lumina.Schedulers;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary>Model folders in both published layouts, assembled from the golden upstream weight files.</summary>
internal static class ModelFolders
{
    /// <summary>A diffusers folder: model_index.json, transformer/ (the diffusers-named Next-DiT), vae/, scheduler/.</summary>
    public static string WriteDiffusers(string root)
    {
        var index = new DiffusersModelIndex
        {
            PipelineClass = "LuminaText2ImgPipeline",
            Components =
            [
                new("scheduler", new DiffusersComponent("diffusers", FlowMatchSchedulerConfig.ClassName)),
                new("transformer", new DiffusersComponent("diffusers", Lumina.Models.DiT.NextDiTConfig.DiffusersClassName)),
                new("vae", new DiffusersComponent("diffusers", "AutoencoderKL")),
            ],
        };
        DiffusersFolder.Write(root, index, new Dictionary<string, Action<string>>
        {
            ["transformer"] = dir => File.Copy(Golden.WeightsPath("nextdit_diffusers"), Path.Combine(dir, "diffusion_pytorch_model.safetensors")),
            ["vae"] = dir => File.Copy(Golden.WeightsPath("vae"), Path.Combine(dir, "diffusion_pytorch_model.safetensors")),
            ["scheduler"] = DiffusersFolder.JsonFile(DiffusersFolder.SchedulerConfigFile, new FlowMatchSchedulerConfig().ToJson()),
        });
        return root;
    }

    /// <summary>An original Lumina folder: consolidated.00-of-01.safetensors with upstream key names.</summary>
    public static string WriteOriginal(string root)
    {
        Copy(Golden.WeightsPath("nextdit"), Path.Combine(root, "consolidated.00-of-01.safetensors"));
        return root;
    }

    /// <summary>Copies a file, creating its folder.</summary>
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to, overwrite: true);
    }
}
