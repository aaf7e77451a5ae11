using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary>Model folders in both published layouts, assembled from the golden upstream weight files.</summary>
internal static class ModelFolders
{
    /// <summary>A diffusers folder: model_index.json, transformer/ (the diffusers-named Next-DiT), vae/, scheduler/.</summary>
    public static string WriteDiffusers(string root)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "model_index.json"), """
            {
              "_class_name": "LuminaText2ImgPipeline",
              "_diffusers_version": "0.30.0",
              "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
              "transformer": ["diffusers", "LuminaNextDiT2DModel"],
              "vae": ["diffusers", "AutoencoderKL"]
            }
            """);
        Copy(Golden.WeightsPath("nextdit_diffusers"), Path.Combine(root, "transformer", "diffusion_pytorch_model.safetensors"));
        Copy(Golden.WeightsPath("vae"), Path.Combine(root, "vae", "diffusion_pytorch_model.safetensors"));
        Directory.CreateDirectory(Path.Combine(root, "scheduler"));
        File.WriteAllText(Path.Combine(root, "scheduler", "scheduler_config.json"), """{"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 1.0}""");
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
