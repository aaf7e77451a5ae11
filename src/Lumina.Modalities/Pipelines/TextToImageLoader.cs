using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Tensors;

namespace Lumina.Pipelines;

/// <summary>
/// Loads a text-to-image pipeline from a local folder in either published layout: Lumina-Next (Next-DiT + Gemma +
/// SDXL VAE) or Lumina-T2I (Flag-DiT + LLaMA + SDXL VAE), the family read from the folder. A diffusers folder whose
/// <c>model_index.json</c> has <c>"vae": [null, null]</c> holds a pixel-space model (<see cref="PixelSpace"/>, like the
/// demo model), and its default image size comes from <c>transformer/config.json</c>'s <c>sample_size</c>.
/// </summary>
public static class TextToImageLoader
{
    /// <summary>Loads every component and assembles the pipeline.</summary>
    /// <param name="folder">A diffusers folder (model_index.json) or an original one (consolidated*.safetensors).</param>
    /// <param name="options">Device, dtype and component folders.</param>
    /// <param name="settings">Default generation settings (null = the family's upstream demo settings).</param>
    /// <param name="modelId">Recorded in the PNG metadata; null = the folder.</param>
    /// <param name="cancellationToken">Checked between components.</param>
    public static TextToImagePipeline Load(string folder, ModelLoadOptions? options = null, TextToImageSettings? settings = null,
        string? modelId = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelLoadOptions();
        var layout = ModelFolder.Open(folder, options.PreferEma);
        var textEncoderDir = options.TextEncoderPath ?? layout.Component("text_encoder")
            ?? throw new LuminaException(
                $"'{folder}' has no text_encoder/ folder; set {nameof(ModelLoadOptions.TextEncoderPath)} (for example a {TransformerPresets.DefaultTextEncoderRepo(layout.Family)} snapshot).");
        var tokenizerDir = options.TokenizerPath ?? layout.Component("tokenizer") ?? textEncoderDir;
        var pixelSpace = options.VaePath is null && layout.IsPixelSpace;
        var vaeDir = pixelSpace ? null : options.VaePath ?? layout.Component("vae")
            ?? throw new LuminaException($"'{folder}' has no vae/ folder; set {nameof(ModelLoadOptions.VaePath)} (for example a stabilityai/sdxl-vae snapshot).");
        if (layout.Layout == ModelLayoutKind.Diffusers && layout.Component("scheduler") is { } scheduler
            && !File.Exists(Path.Combine(scheduler, "scheduler_config.json")))
            throw new LuminaException($"'{scheduler}' has no scheduler_config.json; the diffusers folder is incomplete.");

        var disposables = new List<IDisposable>();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            IDiffusionTransformer transformer = layout.Family == TransformerFamily.FlagDiT
                ? (IDiffusionTransformer)LoadFlagDiT(layout, options)
                : LoadNextDiT(layout, options);
            disposables.Add(transformer);

            cancellationToken.ThrowIfCancellationRequested();
            ICaptionEncoder encoder = layout.Family == TransformerFamily.FlagDiT
                ? LlamaCaptionEncoder.FromPretrained(textEncoderDir, tokenizerDir, options.Device, options.DType)
                : GemmaCaptionEncoder.FromPretrained(textEncoderDir, tokenizerDir, options.Device, options.DType);
            disposables.Add(encoder);

            cancellationToken.ThrowIfCancellationRequested();
            IImageLatentSpace latentSpace = vaeDir is null
                ? new PixelSpace(options.Device, options.DType)
                : AutoencoderKL.FromDirectory(vaeDir, options.Device, options.DType);
            disposables.Add(latentSpace);
            return new TextToImagePipeline(transformer, encoder, latentSpace,
                WithTrainingSize(settings ?? TransformerPresets.DefaultSettings(layout.Family), layout, latentSpace), modelId ?? Path.GetFullPath(folder));
        }
        catch
        {
            foreach (var d in disposables) d.Dispose();
            throw;
        }
    }

    /// <summary>Fills an unset default image size with the transformer's training resolution when its config says.</summary>
    internal static TextToImageSettings WithTrainingSize(TextToImageSettings settings, ModelFolder layout, IImageLatentSpace latentSpace)
    {
        if (settings.Width is not null && settings.Height is not null || layout.Layout != ModelLayoutKind.Diffusers) return settings;
        var side = NextDiTConfigJson.ReadSampleSize(Path.Combine(layout.Path, "transformer", "config.json")) * latentSpace.DownscaleFactor;
        return side is int s && s % 16 == 0 && s <= RequestValidation.MaxSide
            ? settings with { Width = settings.Width ?? s, Height = settings.Height ?? s }
            : settings;
    }

    private static NextDiT LoadNextDiT(ModelFolder layout, ModelLoadOptions options)
    {
        NextDiTConfig config;
        if (layout.Layout == ModelLayoutKind.Diffusers) config = NextDiTConfigJson.Read(Path.Combine(layout.Path, "transformer", "config.json"));
        else if (options.TransformerConfig is { } given) config = given;
        else
        {
            var preset = TransformerPresets.Preset(options.TransformerPreset ?? "NextDiT-2B-GQA");
            config = preset.Next ?? throw new LuminaException(
                $"'{layout.TransformerWeights}' is a Next-DiT checkpoint but preset '{options.TransformerPreset}' is a {preset.Family}; use NextDiT-2B-GQA or NextDiT-2B.");
        }
        // Before anything is allocated: a config that disagrees with the checkpoint's header is refused, naming both.
        NextDiTHeaderCheck.Check(config, layout.TransformerWeights, layout.Layout == ModelLayoutKind.Diffusers
            ? Path.Combine(layout.Path, "transformer", "config.json")
            : options.TransformerConfig is not null ? "the given transformer config" : $"transformer preset '{options.TransformerPreset ?? "NextDiT-2B-GQA"}'");
        var dit = new NextDiT(config, options.Device, options.DType);
        try
        {
            NextDiTCheckpoint.Load(dit, layout.TransformerWeights);
            dit.BaseSequenceLength = options.BaseSequenceLength ?? 4096;
            return dit;
        }
        catch
        {
            dit.Dispose();
            throw;
        }
    }

    private static FlagDiT LoadFlagDiT(ModelFolder layout, ModelLoadOptions options)
    {
        FlagDiTConfig config;
        if (options.FlagTransformerConfig is { } given) config = given;
        else
        {
            var preset = TransformerPresets.Preset(options.TransformerPreset ?? "FlagDiT-5B");
            config = preset.Flag ?? throw new LuminaException(
                $"'{layout.TransformerWeights}' is a Flag-DiT (Lumina-T2I) checkpoint but preset '{options.TransformerPreset}' is a {preset.Family}; use FlagDiT-5B.");
        }
        var dit = new FlagDiT(config, options.Device, options.DType);
        try
        {
            dit.LoadSafetensors(layout.TransformerWeights);
            dit.BaseSequenceLength = options.BaseSequenceLength ?? 4224;
            return dit;
        }
        catch
        {
            dit.Dispose();
            throw;
        }
    }
}
