using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Schedulers;
using Lumina.Tensors;

namespace Lumina.Training.Demo;

/// <summary>
/// Writes a pixel-space Lumina-Next model as a diffusers folder: <c>model_index.json</c> (with <c>"vae": [null, null]</c>,
/// so loaders use pixels directly), <c>transformer/</c> (config.json + diffusion_pytorch_model.safetensors under
/// diffusers key names), <c>text_encoder/</c> (Gemma config.json + model.safetensors), <c>tokenizer/</c> and
/// <c>scheduler/</c>, through <see cref="DiffusersFolder.Write"/> (assembled beside the target and moved into place, so a
/// failure or cancellation never leaves a half-written model; an existing diffusers folder is replaced).
/// </summary>
public static class DemoModelExporter
{
    /// <summary>Writes the folder.</summary>
    /// <param name="folder">Target folder; an existing diffusers folder there is replaced, any other non-empty folder refused.</param>
    /// <param name="transformer">The trained Next-DiT (3 input channels).</param>
    /// <param name="textEncoder">The Gemma text encoder it was trained with.</param>
    /// <param name="tokenizerFolder">Folder with tokenizer.model and tokenizer_config.json.</param>
    /// <param name="imageSize">Training resolution in pixels (written as the transformer's <c>sample_size</c>).</param>
    /// <param name="metadata">Recorded in the safetensors headers (for example the training command and step).</param>
    /// <param name="timeShift">The sampling time shift written to <c>scheduler_config.json</c> (4, as the Lumina-Next demo samples).</param>
    public static void Write(string folder, NextDiT transformer, DecoderTextModel textEncoder, string tokenizerFolder, int imageSize,
        IReadOnlyDictionary<string, string>? metadata = null, double timeShift = 4.0)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerFolder);
        if (transformer.Config.InChannels != 3)
            throw new ArgumentException($"A pixel-space model has 3 input channels; this transformer has {transformer.Config.InChannels}.", nameof(transformer));
        if (!File.Exists(Path.Combine(tokenizerFolder, "tokenizer.model")))
            throw new FileNotFoundException($"'{tokenizerFolder}' has no tokenizer.model.", Path.Combine(tokenizerFolder, "tokenizer.model"));

        var index = new DiffusersModelIndex
        {
            PipelineClass = "LuminaText2ImgPipeline",
            Components =
            [
                new("scheduler", new DiffusersComponent("diffusers", FlowMatchSchedulerConfig.ClassName)),
                new("text_encoder", new DiffusersComponent("transformers", "GemmaModel")),
                new("tokenizer", new DiffusersComponent("transformers", "GemmaTokenizer")),
                new("transformer", new DiffusersComponent("diffusers", NextDiTConfig.DiffusersClassName)),
                new("vae", DiffusersComponent.None),
            ],
        };
        DiffusersFolder.Write(folder, index, new Dictionary<string, Action<string>>
        {
            ["transformer"] = dir =>
            {
                NextDiTCheckpoint.SaveDiffusers(transformer, Path.Combine(dir, "diffusion_pytorch_model.safetensors"), metadata);
                File.WriteAllText(Path.Combine(dir, "config.json"), transformer.Config.ToJson(imageSize));
            },
            ["text_encoder"] = dir =>
            {
                textEncoder.SaveSafetensors(Path.Combine(dir, "model.safetensors"), metadata);
                File.WriteAllText(Path.Combine(dir, "config.json"), textEncoder.Config.ToJson());
            },
            ["tokenizer"] = DiffusersFolder.CopyFrom(tokenizerFolder),
            // The shift the demo samples with (Lumina-Next's demo setting); loaders take it from here.
            ["scheduler"] = DiffusersFolder.JsonFile(DiffusersFolder.SchedulerConfigFile, new FlowMatchSchedulerConfig { Shift = timeShift }.ToJson()),
        }, overwrite: true);
    }
}
