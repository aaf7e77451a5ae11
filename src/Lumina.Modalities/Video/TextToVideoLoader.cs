using Lumina.Families;
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
internal static class TextToVideoLoader
{
    /// <summary>Loads every component and assembles the pipeline.</summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="options">Device, dtype, component folders and (original layout) the architecture.</param>
    /// <param name="settingsOver">The builder's settings over the family's settings for the folder (null = the family's).</param>
    /// <param name="modelId">Recorded in the metadata; null = the folder.</param>
    /// <param name="cancellationToken">Checked between components.</param>
    /// <exception cref="LuminaException">The folder is not a video model or a component is missing.</exception>
    public static TextToVideoPipeline Load(string folder, ModelLoadOptions? options = null, Func<SamplingSettings, SamplingSettings>? settingsOver = null,
        string? modelId = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelLoadOptions();
        var layout = ModelFolder.Open(folder, options.PreferEma);
        var family = ModelFamilies.Detect<ImageModelFamily>(layout, "text-to-video");
        if (family is not LuminaNextFamily next)
            throw new LuminaException($"'{folder}' holds a {family.DisplayName} checkpoint; text-to-video needs a video Next-DiT.");
        if (layout.Layout == ModelLayoutKind.Original && options.TransformerConfig is null)
            throw new LuminaException(
                $"'{folder}' is an original-layout folder; pass the video architecture ({nameof(ModelLoadOptions.TransformerConfig)} with Video = true).");
        var (context, textEncoderDir, tokenizerDir, vaeDir) = TextToImageLoader.Components(layout, next, options);
        var config = LuminaNextFamily.Config(context);
        if (!config.Video)
            throw new LuminaException(
                $"'{folder}' is an image Next-DiT (its transformer config has no \"video\": true); load it with LuminaPipeline.TextToImage().");

        return TextToImageLoader.LoadInTurn(
            () =>
            {
                var dit = LuminaNextFamily.LoadModel(context, config);
                dit.BaseSequenceLength = options.BaseSequenceLength ?? LuminaNextFamily.BaseSequenceLength;
                return dit;
            },
            () => next.LoadCaptionEncoder(textEncoderDir, tokenizerDir, context),
            () => next.LoadLatentSpace(vaeDir, context),
            (dit, encoder, latentSpace) =>
            {
                var familySettings = next.SettingsFor(layout);
                var settings = TextToImageLoader.WithTrainingSize(settingsOver?.Invoke(familySettings) ?? familySettings, layout, latentSpace);
                return new TextToVideoPipeline(dit, encoder, latentSpace, settings, modelId ?? Path.GetFullPath(folder));
            },
            cancellationToken);
    }
}
