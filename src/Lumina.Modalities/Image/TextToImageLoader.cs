using Lumina.Families;
using Lumina.Models.Autoencoders;
using Lumina.Models.TextEncoders;

namespace Lumina.Pipelines;

/// <summary>
/// Loads a text-to-image pipeline from a local folder in either published layout. The family (Lumina-Next, Lumina-T2I,
/// the pixel-space demo, or any registered <see cref="ImageModelFamily"/>) is read from the folder by
/// <see cref="ModelFamilies"/>, which also loads its components. A diffusers folder's <c>scheduler_config.json</c> sets
/// the default time shift, and <c>transformer/config.json</c>'s <c>sample_size</c> the default image size.
/// </summary>
internal static class TextToImageLoader
{
    /// <summary>Loads every component and assembles the pipeline.</summary>
    /// <param name="folder">A diffusers folder (model_index.json), an original one (consolidated*.safetensors), or a single-file checkpoint.</param>
    /// <param name="options">Device, dtype and component folders.</param>
    /// <param name="settings">Default generation settings (null = the family's settings for the folder).</param>
    /// <param name="modelId">Recorded in the PNG metadata; null = the folder.</param>
    /// <param name="cancellationToken">Checked between components.</param>
    public static TextToImagePipeline Load(string folder, ModelLoadOptions? options = null, SamplingSettings? settings = null,
        string? modelId = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelLoadOptions();
        var layout = ModelFolder.Open(folder, options.PreferEma);
        var family = ModelFamilies.Detect<ImageModelFamily>(layout, "text-to-image");
        var (context, textEncoderDir, tokenizerDir, vaeDir) = Components(layout, family, options);

        return LoadInTurn(
            () => family.LoadTransformer(context),
            () => family.LoadCaptionEncoder(textEncoderDir, tokenizerDir, context),
            () => family.LoadLatentSpace(vaeDir, context),
            (transformer, encoder, latentSpace) => new TextToImagePipeline(transformer, encoder, latentSpace,
                WithTrainingSize(settings ?? family.SettingsFor(layout), layout, latentSpace), modelId ?? Path.GetFullPath(folder))
            {
                Family = family,
                Sources = new PipelineSources(layout, textEncoderDir, tokenizerDir, vaeDir),
                CaptionLanguage = CaptionLanguage.ReadFrom(folder),
            },
            cancellationToken);
    }

    /// <summary>
    /// Loads the transformer, the caption encoder and the latent space in turn (checking <paramref name="cancellationToken"/>
    /// before each) and assembles them; if a later part or the assembly fails, the parts already loaded are disposed.
    /// The one load sequence of the image-space pipelines (image and video).
    /// </summary>
    internal static TPipeline LoadInTurn<TTransformer, TPipeline>(Func<TTransformer> loadTransformer, Func<ICaptionEncoder> loadCaptionEncoder,
        Func<IImageLatentSpace> loadLatentSpace, Func<TTransformer, ICaptionEncoder, IImageLatentSpace, TPipeline> assemble,
        CancellationToken cancellationToken)
        where TTransformer : IDisposable
    {
        var loaded = new List<IDisposable>();
        T Load<T>(Func<T> load) where T : IDisposable
        {
            cancellationToken.ThrowIfCancellationRequested();
            var part = load();
            loaded.Add(part);
            return part;
        }

        try
        {
            var transformer = Load(loadTransformer);
            var encoder = Load(loadCaptionEncoder);
            var latentSpace = Load(loadLatentSpace);
            return assemble(transformer, encoder, latentSpace);
        }
        catch
        {
            foreach (var part in loaded) part.Dispose();
            throw;
        }
    }

    /// <summary>The load context and the component folders of an image folder (text encoder, tokenizer, VAE or null for pixels).</summary>
    internal static (FamilyLoadContext Context, string TextEncoder, string Tokenizer, string? Vae) Components(ModelFolder layout, ImageModelFamily family,
        ModelLoadOptions options)
    {
        var textEncoderDir = Inside(options.TextEncoderPath, "text_encoder") ?? layout.Component("text_encoder")
            ?? throw new LuminaException(
                $"'{layout.Path}' has no text_encoder/ folder; set {nameof(ModelLoadOptions.TextEncoderPath)} (for example a {family.DefaultTextEncoderRepo} snapshot).");
        var tokenizerDir = options.TokenizerPath ?? layout.Component("tokenizer") ?? Sibling(options.TextEncoderPath, textEncoderDir, "tokenizer") ?? textEncoderDir;
        var pixelSpace = options.VaePath is null && !family.NeedsVae(layout);
        var vaeDir = pixelSpace ? null : Inside(options.VaePath, "vae") ?? layout.Component("vae")
            ?? throw new LuminaException($"'{layout.Path}' has no vae/ folder; set {nameof(ModelLoadOptions.VaePath)} (for example a {family.DefaultVaeRepo ?? "stabilityai/sdxl-vae"} snapshot).");
        return (new FamilyLoadContext(layout, options, family), textEncoderDir, tokenizerDir, vaeDir);
    }

    /// <summary>
    /// A component reference that is a whole diffusers pipeline folder (no <c>config.json</c> of its own, a
    /// <paramref name="subfolder"/> inside) stands for that subfolder; anything else is itself.
    /// </summary>
    private static string? Inside(string? given, string subfolder)
    {
        if (given is null || !Directory.Exists(given) || File.Exists(Path.Combine(given, "config.json"))) return given;
        var inside = Path.Combine(given, subfolder);
        return Directory.Exists(inside) ? inside : given;
    }

    /// <summary>The <c>tokenizer/</c> beside a text encoder that was taken from a pipeline folder's <c>text_encoder/</c>.</summary>
    private static string? Sibling(string? given, string textEncoderDir, string subfolder)
    {
        if (given is null || textEncoderDir == given) return null;
        var sibling = Path.Combine(given, subfolder);
        return Directory.Exists(sibling) ? sibling : null;
    }

    /// <summary>Fills an unset default image size with the transformer's training resolution when its config says.</summary>
    internal static SamplingSettings WithTrainingSize(SamplingSettings settings, ModelFolder layout, IImageLatentSpace latentSpace)
    {
        if (settings.Width is not null && settings.Height is not null) return settings;
        var side = layout.TransformerSampleSize * latentSpace.DownscaleFactor;
        return side is int s && s % 16 == 0 && s <= RequestValidation.MaxSide
            ? settings with { Width = settings.Width ?? s, Height = settings.Height ?? s }
            : settings;
    }
}
