using System.Text.Json;
using System.Text.Json.Nodes;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Tensors;

namespace Lumina.Training.Demo;

/// <summary>
/// Writes a pixel-space Lumina-Next model as a diffusers folder: <c>model_index.json</c> (with <c>"vae": [null, null]</c>,
/// so loaders use pixels directly), <c>transformer/</c> (config.json + diffusion_pytorch_model.safetensors under
/// diffusers key names), <c>text_encoder/</c> (Gemma config.json + model.safetensors), <c>tokenizer/</c> and
/// <c>scheduler/</c>. The folder is assembled beside the target and renamed into place, so a failure or cancellation
/// never leaves a half-written model.
/// </summary>
public static class DemoModelExporter
{
    /// <summary>Writes the folder.</summary>
    /// <param name="folder">Target folder; replaced if it exists.</param>
    /// <param name="transformer">The trained Next-DiT (3 input channels).</param>
    /// <param name="textEncoder">The Gemma text encoder it was trained with.</param>
    /// <param name="tokenizerFolder">Folder with tokenizer.model and tokenizer_config.json.</param>
    /// <param name="imageSize">Training resolution in pixels (written as the transformer's <c>sample_size</c>).</param>
    /// <param name="metadata">Recorded in the safetensors headers (for example the training command and step).</param>
    public static void Write(string folder, NextDiT transformer, GemmaModel textEncoder, string tokenizerFolder, int imageSize,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerFolder);
        if (transformer.Config.InChannels != 3)
            throw new ArgumentException($"A pixel-space model has 3 input channels; this transformer has {transformer.Config.InChannels}.", nameof(transformer));
        if (!File.Exists(Path.Combine(tokenizerFolder, "tokenizer.model")))
            throw new FileNotFoundException($"'{tokenizerFolder}' has no tokenizer.model.", Path.Combine(tokenizerFolder, "tokenizer.model"));

        var target = Path.GetFullPath(folder);
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{folder}' has no parent folder.", nameof(folder));
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            WriteInto(staging, transformer, textEncoder, tokenizerFolder, imageSize, metadata);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private static void WriteInto(string root, NextDiT transformer, GemmaModel textEncoder, string tokenizerFolder, int imageSize,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var indented = new JsonSerializerOptions { WriteIndented = true };
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "model_index.json"), new JsonObject
        {
            ["_class_name"] = "LuminaText2ImgPipeline",
            ["_diffusers_version"] = "0.30.0",
            ["scheduler"] = new JsonArray("diffusers", "FlowMatchEulerDiscreteScheduler"),
            ["text_encoder"] = new JsonArray("transformers", "GemmaModel"),
            ["tokenizer"] = new JsonArray("transformers", "GemmaTokenizer"),
            ["transformer"] = new JsonArray("diffusers", NextDiTConfigJson.DiffusersClassName),
            ["vae"] = new JsonArray(null, null),
        }.ToJsonString(indented));

        var transformerDir = Directory.CreateDirectory(Path.Combine(root, "transformer")).FullName;
        NextDiTCheckpoint.SaveDiffusers(transformer, Path.Combine(transformerDir, "diffusion_pytorch_model.safetensors"), metadata);
        NextDiTConfigJson.Write(transformer.Config, Path.Combine(transformerDir, "config.json"), sampleSize: imageSize);

        var textDir = Directory.CreateDirectory(Path.Combine(root, "text_encoder")).FullName;
        textEncoder.SaveSafetensors(Path.Combine(textDir, "model.safetensors"), metadata);
        File.WriteAllText(Path.Combine(textDir, "config.json"), textEncoder.Config.ToJson());

        var tokenizerDir = Directory.CreateDirectory(Path.Combine(root, "tokenizer")).FullName;
        foreach (var file in Directory.GetFiles(tokenizerFolder))
            File.Copy(file, Path.Combine(tokenizerDir, Path.GetFileName(file)));

        var schedulerDir = Directory.CreateDirectory(Path.Combine(root, "scheduler")).FullName;
        File.WriteAllText(Path.Combine(schedulerDir, "scheduler_config.json"), new JsonObject
        {
            ["_class_name"] = "FlowMatchEulerDiscreteScheduler",
            ["_diffusers_version"] = "0.30.0",
            ["num_train_timesteps"] = 1000,
            ["shift"] = 1.0,
        }.ToJsonString(indented));
    }
}
