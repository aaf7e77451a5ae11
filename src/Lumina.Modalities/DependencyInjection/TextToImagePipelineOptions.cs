using Lumina.Pipelines;

namespace Lumina.DependencyInjection;

/// <summary>One named text-to-image pipeline of <c>LuminaBuilder.AddTextToImage</c>.</summary>
public sealed class TextToImagePipelineOptions
{
    /// <summary>A local folder (either layout) or a Hub repo id.</summary>
    public string? Model { get; set; }

    /// <summary>Default settings, e.g. a preset of <see cref="TextToImagePresets"/>; null = the model family's upstream demo settings.</summary>
    public SamplingSettings? Settings { get; set; }

    /// <summary>Original layout: the DiT preset name (default NextDiT-2B-GQA).</summary>
    public string? TransformerPreset { get; set; }

    /// <summary>Text encoder folder, when the model folder has none.</summary>
    public string? TextEncoder { get; set; }

    /// <summary>Tokenizer folder, when the model folder has none.</summary>
    public string? Tokenizer { get; set; }

    /// <summary>VAE folder, when the model folder has none.</summary>
    public string? Vae { get; set; }

    /// <summary>Further load settings (applied before the ones above).</summary>
    public ModelLoadOptions Load { get; set; } = new();
}
