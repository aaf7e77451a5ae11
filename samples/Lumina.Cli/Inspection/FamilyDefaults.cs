using System.Globalization;
using Lumina.Families;
using Lumina.Pipelines;
using Lumina.Tensors;

namespace Lumina.Cli.Inspection;

/// <summary>The model family of a folder or single-file checkpoint, as the registry reads it, and the settings it generates with by default.</summary>
internal static class FamilyDefaults
{
    /// <summary>The family and (for image families) its default settings, or null when the path is not a model the registry knows.</summary>
    public static (string Family, string? Defaults)? Describe(string path)
    {
        try
        {
            var folder = ModelFolder.Open(path);
            var family = ModelFamilies.All.FirstOrDefault(f => f.Recognizes(folder));
            if (family is null) return null;
            return ($"{family.DisplayName} [{family.Name}]", family is ImageModelFamily image ? Describe(image.SettingsFor(folder), folder) : null);
        }
        catch (Exception e) when (e is LuminaException or IOException or UnauthorizedAccessException)
        {
            return null; // a component folder, a text encoder or VAE file: the per-component lines say what it is
        }
    }

    /// <summary>One line: solver, steps, shift, guidance (scale, channels, truncation, renormalisation), system prompt, size.</summary>
    public static string Describe(SamplingSettings s, ModelFolder folder)
    {
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string>
        {
            $"{s.Solver.ToString().ToLowerInvariant()} {s.NumInferenceSteps} steps",
            string.Create(inv, $"shift {s.TimeShift}"),
            string.Create(inv, $"cfg {s.GuidanceScale} on {(s.GuidanceChannels == Guidance.GuidanceChannels.All ? "all channels" : "channels 0-2")}"),
        };
        if (s.GuidanceTruncateAtTime is { } t) parts.Add(string.Create(inv, $"cfg_trunc {t} (guided while t < {t})"));
        if (s.GuidanceTruncateAfterStepFraction is { } f) parts.Add(string.Create(inv, $"cfg_trunc_ratio {f}"));
        if (s.GuidanceClipToConditionalNorm > 0) parts.Add(string.Create(inv, $"renorm_cfg {s.GuidanceClipToConditionalNorm}"));
        if (s.GuidanceRescaleToConditionalNorm) parts.Add("cfg_normalization");
        if (s.SystemPrompt != "none") parts.Add($"system prompt \"{s.SystemPrompt}\"");
        parts.Add(s.Width is { } w && s.Height is { } h ? $"{w}x{h}"
            : folder.TransformerSampleSize is { } latent ? $"training size ({latent}² latents)"
            : $"{SamplingSettings.DefaultSide}x{SamplingSettings.DefaultSide}");
        return string.Join(", ", parts);
    }
}
