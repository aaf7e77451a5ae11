using Lumina.Guidance;
using Lumina.Models.TextEncoders;
using Lumina.Solvers;

namespace Lumina.Pipelines;

/// <summary>The settings of the upstream Lumina demos, by name.</summary>
public static class TextToImagePresets
{
    /// <summary>Lumina-Next-T2I / -SFT: midpoint, 30 steps, shift 4, cfg 4, proportional attention.</summary>
    public static SamplingSettings LuminaNext { get; } = new()
    {
        Solver = OdeMethod.Midpoint, NumInferenceSteps = 30, TimeShift = 4, GuidanceScale = 4, ProportionalAttention = true,
    };

    /// <summary>Lumina-T2I (Flag-DiT 5B): Euler, 30 steps, shift 4, cfg 4, proportional attention.</summary>
    public static SamplingSettings LuminaT2I { get; } = LuminaNext with { Solver = OdeMethod.Euler };

    /// <summary>
    /// Lumina-Image 2.0, upstream <c>scripts/sample.sh</c>: midpoint, 18 steps, shift 6, cfg 4 on all channels with
    /// <c>renorm_cfg</c> 1 (<c>sample.py</c> passes only <c>cfg_scale</c>, so <c>forward_with_cfg</c>'s default clip is on),
    /// no truncation, system prompt "real". The size is left to the model: its training resolution (1024² for the released
    /// model, from <c>sample_size</c>; <see cref="SamplingSettings.DefaultSide"/> otherwise). No proportional attention
    /// (the Unified Next-DiT has none).
    /// </summary>
    public static SamplingSettings Lumina2 { get; } = new()
    {
        Solver = OdeMethod.Midpoint, NumInferenceSteps = 18, TimeShift = 6, GuidanceScale = 4, GuidanceChannels = GuidanceChannels.All,
        GuidanceClipToConditionalNorm = 1, SystemPrompt = Lumina2SystemPrompt.DefaultName, ProportionalAttention = false,
    };

    /// <summary>Lumina-Image 2.0, upstream <c>demo.py</c>: <see cref="Lumina2"/> with <c>cfg_trunc</c> 0.25 (guided while t &lt; 0.25) and renorm 1.</summary>
    public static SamplingSettings Lumina2Demo { get; } = Lumina2 with { GuidanceTruncateAtTime = 0.25 };

    /// <summary>
    /// Lumina-Image 2.0 as diffusers' <c>Lumina2Pipeline</c> runs it by default: Euler on its σ grid
    /// (<see cref="Schedulers.TimeSchedule.DiffusersFlowMatch"/>), 30 steps, shift 6, cfg 4 on all channels with
    /// <c>cfg_normalization</c> (per-row rescale) and <c>cfg_trunc_ratio</c> 1, system prompt "real".
    /// </summary>
    public static SamplingSettings Lumina2Diffusers { get; } = Lumina2 with
    {
        Solver = OdeMethod.Euler, NumInferenceSteps = 30, Schedule = Schedulers.TimeSchedule.DiffusersFlowMatch, GuidanceClipToConditionalNorm = 0,
        GuidanceRescaleToConditionalNorm = true, GuidanceTruncateAfterStepFraction = 1.0,
    };

    /// <summary>
    /// Resolution extrapolation (upstream's Lumina-Next demo above 1024²): time-aware RoPE scaling with the factor
    /// sqrt(w·h)/1024 and watershed 0.3, on top of <see cref="LuminaNext"/>.
    /// </summary>
    public static SamplingSettings Extrapolation { get; } = LuminaNext with { AutoScaleFactor = true, ScaleWatershed = 0.3 };

    /// <summary>The panorama demo: <see cref="Extrapolation"/> settings; pair with <see cref="Panorama"/> for the size.</summary>
    public static SamplingSettings PanoramaSettings { get; } = Extrapolation;

    /// <summary>A 1024×4096 (height × width) panorama request for <paramref name="prompt"/>.</summary>
    public static TextToImageRequest Panorama(string prompt) => new(prompt) { Width = 4096, Height = 1024 };

    /// <summary>The names <see cref="ByName"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["lumina-next", "lumina-t2i", "lumina2", "lumina2-demo", "lumina2-diffusers", "extrapolation", "panorama"];

    /// <summary>
    /// Looks a preset up by name: <c>lumina-next</c>, <c>lumina-t2i</c>, <c>lumina2</c>, <c>lumina2-demo</c>,
    /// <c>lumina2-diffusers</c>, <c>extrapolation</c>, <c>panorama</c> (case-insensitive).
    /// </summary>
    public static SamplingSettings ByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "lumina-next" or "luminanext" or "next" => LuminaNext,
            "lumina-t2i" or "luminat2i" or "t2i" => LuminaT2I,
            "lumina2" or "lumina-2" or "lumina-image-2" => Lumina2,
            "lumina2-demo" or "lumina-2-demo" => Lumina2Demo,
            "lumina2-diffusers" or "lumina-2-diffusers" => Lumina2Diffusers,
            "extrapolation" => Extrapolation,
            "panorama" => PanoramaSettings,
            _ => throw new ArgumentException($"Unknown preset '{name}'; use {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
