using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;

namespace Lumina.Video;

/// <summary>
/// Loads a text-to-video pipeline from a local folder. The diffusers-like layout is the natural one: <c>model_index.json</c>,
/// <c>transformer/</c> (<c>config.json</c> of <c>LuminaNextDiT2DModel</c> with <c>"video": true</c> +
/// <c>diffusion_pytorch_model.safetensors</c>, which holds <c>nextframe_token</c>), <c>vae/</c>, <c>text_encoder/</c>
/// (Gemma), <c>tokenizer/</c> (a pixel-space model has no <c>vae/</c> and <c>"vae": [null, null]</c> in
/// <c>model_index.json</c>, as for text-to-image). An original-layout folder (<c>consolidated*.safetensors</c>) works with an explicit
/// <see cref="ModelLoadOptions.TransformerConfig"/> that has <see cref="NextDiTConfig.Video"/> set and component folders.
/// </summary>
public static class TextToVideoLoader
{
    /// <summary>Loads every component and assembles the pipeline.</summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="options">Device, dtype, component folders and (original layout) the architecture.</param>
    /// <param name="settings">Default generation settings (null = <see cref="TextToImagePresets.LuminaNext"/>).</param>
    /// <param name="modelId">Recorded in the metadata; null = the folder.</param>
    /// <param name="cancellationToken">Checked between components.</param>
    /// <exception cref="LuminaException">The folder is not a video model or a component is missing.</exception>
    public static TextToVideoPipeline Load(string folder, ModelLoadOptions? options = null, TextToImageSettings? settings = null,
        string? modelId = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelLoadOptions();
        var layout = ModelFolder.Open(folder, options.PreferEma);
        if (layout.Family != TransformerFamily.NextDiT)
            throw new LuminaException($"'{folder}' holds a {layout.Family} checkpoint; text-to-video needs a video Next-DiT.");
        var config = layout.Layout == ModelLayoutKind.Diffusers
            ? NextDiTConfigJson.Read(Path.Combine(layout.Path, "transformer", "config.json"))
            : options.TransformerConfig ?? throw new LuminaException(
                $"'{folder}' is an original-layout folder; pass the video architecture ({nameof(ModelLoadOptions.TransformerConfig)} with Video = true).");
        if (!config.Video)
            throw new LuminaException(
                $"'{folder}' is an image Next-DiT (its transformer config has no \"video\": true); load it with LuminaPipeline.TextToImage().");
        var textEncoderDir = options.TextEncoderPath ?? layout.Component("text_encoder")
            ?? throw new LuminaException($"'{folder}' has no text_encoder/ folder; set {nameof(ModelLoadOptions.TextEncoderPath)}.");
        var tokenizerDir = options.TokenizerPath ?? layout.Component("tokenizer") ?? textEncoderDir;
        var pixelSpace = options.VaePath is null && layout.IsPixelSpace;
        var vaeDir = pixelSpace ? null : options.VaePath ?? layout.Component("vae")
            ?? throw new LuminaException($"'{folder}' has no vae/ folder; set {nameof(ModelLoadOptions.VaePath)}.");

        var disposables = new List<IDisposable>();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var dit = new NextDiT(config, options.Device, options.DType);
            disposables.Add(dit);
            NextDiTCheckpoint.Load(dit, layout.TransformerWeights);
            cancellationToken.ThrowIfCancellationRequested();
            var encoder = GemmaCaptionEncoder.FromPretrained(textEncoderDir, tokenizerDir, options.Device, options.DType);
            disposables.Add(encoder);
            cancellationToken.ThrowIfCancellationRequested();
            IImageLatentSpace latentSpace = vaeDir is null
                ? new PixelSpace(options.Device, options.DType)
                : AutoencoderKL.FromDirectory(vaeDir, options.Device, options.DType);
            disposables.Add(latentSpace);
            settings = TextToImageLoader.WithTrainingSize(settings ?? TextToImagePresets.LuminaNext, layout, latentSpace);
            return new TextToVideoPipeline(dit, encoder, latentSpace, settings, modelId ?? Path.GetFullPath(folder), options.BaseSequenceLength ?? 4096);
        }
        catch
        {
            foreach (var d in disposables) d.Dispose();
            throw;
        }
    }
}
