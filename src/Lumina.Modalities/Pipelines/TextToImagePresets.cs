using Lumina.Solvers;

namespace Lumina.Pipelines;

/// <summary>The settings of the upstream Lumina demos, by name.</summary>
public static class TextToImagePresets
{
    /// <summary>Lumina-Next-T2I / -SFT: midpoint, 30 steps, shift 4, cfg 4, proportional attention.</summary>
    public static TextToImageSettings LuminaNext { get; } = new()
    {
        Solver = OdeMethod.Midpoint, NumInferenceSteps = 30, TimeShift = 4, GuidanceScale = 4, ProportionalAttention = true,
    };

    /// <summary>Lumina-T2I (Flag-DiT 5B): Euler, 30 steps, shift 4, cfg 4, proportional attention.</summary>
    public static TextToImageSettings LuminaT2I { get; } = LuminaNext with { Solver = OdeMethod.Euler };

    /// <summary>
    /// Resolution extrapolation (upstream's Lumina-Next demo above 1024²): time-aware RoPE scaling with the factor
    /// sqrt(w·h)/1024 and watershed 0.3, on top of <see cref="LuminaNext"/>.
    /// </summary>
    public static TextToImageSettings Extrapolation { get; } = LuminaNext with { AutoScaleFactor = true, ScaleWatershed = 0.3 };

    /// <summary>The panorama demo: <see cref="Extrapolation"/> settings; pair with <see cref="Panorama"/> for the size.</summary>
    public static TextToImageSettings PanoramaSettings { get; } = Extrapolation;

    /// <summary>A 1024×4096 (height × width) panorama request for <paramref name="prompt"/>.</summary>
    public static TextToImageRequest Panorama(string prompt) => new(prompt) { Width = 4096, Height = 1024 };

    /// <summary>Looks a preset up by name: <c>lumina-next</c>, <c>lumina-t2i</c>, <c>extrapolation</c>, <c>panorama</c> (case-insensitive).</summary>
    public static TextToImageSettings ByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "lumina-next" or "luminanext" or "next" => LuminaNext,
            "lumina-t2i" or "luminat2i" or "t2i" => LuminaT2I,
            "extrapolation" => Extrapolation,
            "panorama" => PanoramaSettings,
            _ => throw new ArgumentException($"Unknown preset '{name}'; use lumina-next, lumina-t2i, extrapolation or panorama.", nameof(name)),
        };
    }
}
