using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;

namespace Lumina.Pipelines;

/// <summary>
/// Loads Lumina-Next (Next-DiT + Gemma + SDXL VAE) from a local folder in either published layout.
/// </summary>
public static class LuminaNextLoader
{
    /// <summary>Loads every component and assembles the pipeline.</summary>
    /// <param name="folder">A diffusers folder (model_index.json) or an original one (consolidated*.safetensors).</param>
    /// <param name="options">Device, dtype and component locations.</param>
    /// <param name="settings">Default generation settings (null = <see cref="TextToImagePresets.LuminaNext"/>).</param>
    /// <param name="modelId">Recorded in the PNG metadata; null = the folder.</param>
    /// <param name="cancellationToken">Checked between components.</param>
    public static TextToImagePipeline Load(string folder, ModelLoadOptions? options = null, TextToImageSettings? settings = null,
        string? modelId = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelLoadOptions();
        var layout = ModelFolder.Open(folder, options.PreferEma);
        var textEncoderDir = options.TextEncoderPath ?? layout.Component("text_encoder")
            ?? throw new LuminaException($"'{folder}' has no text_encoder/ folder; set {nameof(ModelLoadOptions.TextEncoderPath)} (for example a google/gemma-2b snapshot).");
        var tokenizerDir = options.TokenizerPath ?? layout.Component("tokenizer") ?? textEncoderDir;
        var vaeDir = options.VaePath ?? layout.Component("vae")
            ?? throw new LuminaException($"'{folder}' has no vae/ folder; set {nameof(ModelLoadOptions.VaePath)} (for example a stabilityai/sdxl-vae snapshot).");
        if (layout.Layout == ModelLayoutKind.Diffusers && layout.Component("scheduler") is { } scheduler
            && !File.Exists(Path.Combine(scheduler, "scheduler_config.json")))
            throw new LuminaException($"'{scheduler}' has no scheduler_config.json; the diffusers folder is incomplete.");

        var config = layout.Layout == ModelLayoutKind.Diffusers
            ? NextDiTConfigJson.Read(Path.Combine(folder, "transformer", "config.json"))
            : options.TransformerConfig ?? NextDiTConfigJson.Preset(options.TransformerPreset ?? "NextDiT-2B-GQA");

        var disposables = new List<IDisposable>();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var dit = new NextDiT(config, options.Device, options.DType);
            disposables.Add(dit);
            NextDiTCheckpoint.Load(dit, layout.TransformerWeights);
            var transformer = new NextDiTTransformer(dit, options.BaseSequenceLength);

            cancellationToken.ThrowIfCancellationRequested();
            var encoder = GemmaCaptionEncoder.FromPretrained(textEncoderDir, tokenizerDir, options.Device, options.DType);
            disposables.Add(encoder);

            cancellationToken.ThrowIfCancellationRequested();
            var vae = AutoencoderKL.FromDirectory(vaeDir, options.Device, options.DType);
            disposables.Add(vae);
            return new TextToImagePipeline(transformer, encoder, vae, settings, modelId ?? Path.GetFullPath(folder));
        }
        catch
        {
            foreach (var d in disposables) d.Dispose();
            throw;
        }
    }
}
