using Lumina.Families;
using Lumina.Pipelines;

namespace Lumina.Audio;

/// <summary>
/// Loads a text-to-music / text-to-audio pipeline from a folder of the <see cref="LuminaMusicFamily"/> layout:
/// <c>model_index.json</c>, <c>transformer/</c>, <c>vae/</c>, <c>vocoder/</c> (BigVGAN, weight norm folded on load),
/// <c>text_encoder/</c> (T5) and <c>tokenizer/</c>.
/// </summary>
internal static class TextToAudioLoader
{
    /// <summary>Loads every component.</summary>
    public static TextToAudioPipeline Load(string folder, ModelLoadOptions? options = null, SamplingSettings? settings = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        if (!Checkpoints.DiffusersFolder.IsDiffusersFolder(folder))
            throw new LuminaException($"'{folder}' has no model_index.json; a text-to-audio folder holds transformer/, vae/, vocoder/, text_encoder/ and tokenizer/.");
        var layout = ModelFolder.Open(folder);
        var family = ModelFamilies.Detect<LuminaMusicFamily>(layout, "text-to-audio");
        return LuminaMusicFamily.Load(new FamilyLoadContext(layout, options ?? new ModelLoadOptions(), family), settings, cancellationToken);
    }
}
