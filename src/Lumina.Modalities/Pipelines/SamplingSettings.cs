using Lumina.Guidance;
using Lumina.Models.TextEncoders;
using Lumina.Sampling;
using Lumina.Schedulers;
using Lumina.Solvers;

namespace Lumina.Pipelines;

/// <summary>
/// A pipeline's default generation settings; a request overrides any of them. See <see cref="TextToImagePresets"/>
/// for the upstream demo settings.
/// </summary>
public sealed record SamplingSettings
{
    /// <summary>
    /// Image width when a request gives none. Null = the model's training resolution: the loader fills it from the
    /// transformer config's <c>sample_size</c>, else <see cref="DefaultSide"/>.
    /// </summary>
    public int? Width { get; init; }

    /// <summary>Image height when a request gives none; null as for <see cref="Width"/>.</summary>
    public int? Height { get; init; }

    /// <summary>The side used when neither the request, the settings nor the model name a size (1024, the released models' resolution).</summary>
    public const int DefaultSide = 1024;

    /// <summary>ODE solver (default midpoint, Lumina-Next's demo).</summary>
    public OdeMethod Solver { get; init; } = OdeMethod.Midpoint;

    /// <summary>Solver steps (grid intervals); 30 by default.</summary>
    public int NumInferenceSteps { get; init; } = 30;

    /// <summary>Grid time shift (4 in the upstream demos; 1 = none).</summary>
    public double TimeShift { get; init; } = 4.0;

    /// <summary>
    /// diffusers' dynamic shifting: a scheduler config with <c>use_dynamic_shifting</c> (read from a folder's
    /// <c>scheduler/scheduler_config.json</c>). When set, each run's shift is
    /// <see cref="FlowMatchSchedulerConfig.ShiftFor"/> of its image token count (latent height / patch · latent width /
    /// patch; for video and audio, every latent token) instead of <see cref="TimeShift"/>. Null (the default) = the static
    /// <see cref="TimeShift"/>.
    /// </summary>
    public FlowMatchSchedulerConfig? DynamicShifting { get; init; }

    /// <summary>The time shift a run of <paramref name="imageTokens"/> tokens samples with (see <see cref="DynamicShifting"/>).</summary>
    /// <param name="imageTokens">The latent tokens the transformer sees.</param>
    public double TimeShiftFor(int imageTokens) =>
        DynamicShifting is { UseDynamicShifting: true } dynamic ? dynamic.ShiftFor(imageTokens) : TimeShift;

    /// <summary>
    /// Whose grid arithmetic the run follows: <see cref="Schedulers.TimeSchedule.Upstream"/> (default) or diffusers'
    /// <see cref="Schedulers.TimeSchedule.DiffusersFlowMatch"/> (the transformer at 1 − σ of the scheduler's sigmas).
    /// </summary>
    public Schedulers.TimeSchedule Schedule { get; init; } = Schedulers.TimeSchedule.Upstream;

    /// <summary>Classifier-free guidance scale (4 in the upstream demos).</summary>
    public double GuidanceScale { get; init; } = 4.0;

    /// <summary>
    /// Which output channels guidance acts on: <see cref="GuidanceChannels.LuminaFirstThree"/> (Lumina-Next and
    /// Lumina-T2I, upstream-exact; the default) or <see cref="GuidanceChannels.All"/> (Lumina-Image 2.0).
    /// </summary>
    public GuidanceChannels GuidanceChannels { get; init; } = GuidanceChannels.LuminaFirstThree;

    /// <summary>
    /// Truncation by flow time (upstream Lumina-Image 2.0 <c>cfg_trunc</c>): guide only while t &lt; this value (strict;
    /// t = 0 noise, t = 1 data); later calls run the conditional half alone. In [0, 1]; null = guide at every time.
    /// </summary>
    public double? GuidanceTruncateAtTime { get; init; }

    /// <summary>
    /// Truncation by step fraction (diffusers <c>Lumina2Pipeline</c> <c>cfg_trunc_ratio</c>): step i (0-based) of N runs
    /// the conditional half alone when (i + 1) / N &gt; this value. In [0, 1]; null (or 1) = guide every step.
    /// </summary>
    public double? GuidanceTruncateAfterStepFraction { get; init; }

    /// <summary>
    /// Upstream Lumina-Image 2.0's <c>renorm_cfg</c> r: when ‖g‖ ≥ r·‖cond‖ (per sample) the guided output is clipped
    /// to r·‖cond‖. 0 (the default) disables it; <c>sample.py</c> and <c>demo.py</c> use 1.
    /// </summary>
    public double GuidanceClipToConditionalNorm { get; init; }

    /// <summary>diffusers' <c>cfg_normalization</c>: always rescale each guided row to the conditional row's norm (last axis).</summary>
    public bool GuidanceRescaleToConditionalNorm { get; init; }

    /// <summary>
    /// The named system prompt prepended to the prompt, and to the negative prompt when that is not empty
    /// (<see cref="Lumina2SystemPrompt.Names"/>: base, align, aesthetics, real, 4grid, none). Lumina-Image 2.0 uses
    /// "real" (upstream <c>scripts/sample.sh</c>); "none" (the default) leaves prompts unchanged.
    /// </summary>
    public string SystemPrompt { get; init; } = "none";

    /// <summary>The negative prompt used when a request gives none.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>
    /// Time-aware RoPE scale factor; null = none. With <see cref="AutoScaleFactor"/> the pipeline sets it per request
    /// to sqrt(w·h)/1024 when that exceeds 1.
    /// </summary>
    public double? ScaleFactor { get; init; }

    /// <summary>Set the scale factor from the resolution (the upstream extrapolation demo).</summary>
    public bool AutoScaleFactor { get; init; }

    /// <summary>Time-aware scaling switch point (1.0 as diffusers; 0.3 in upstream's extrapolation demo).</summary>
    public double ScaleWatershed { get; init; } = 1.0;

    /// <summary>Proportional attention (on by default upstream).</summary>
    public bool ProportionalAttention { get; init; } = true;

    /// <summary>Step caching (skip transformer calls whose input barely changed); null = off, the default.</summary>
    public StepCacheOptions? StepCache { get; init; }

    /// <summary>Checks every field; the exception's <c>ParamName</c> names the bad one.</summary>
    public void Validate()
    {
        if (Width is int width) RequestValidation.Side(width, 16, nameof(Width));
        if (Height is int height) RequestValidation.Side(height, 16, nameof(Height));
        RequestValidation.Solver(Solver, nameof(Solver));
        RequestValidation.Steps(NumInferenceSteps, nameof(NumInferenceSteps));
        RequestValidation.Positive(TimeShift, nameof(TimeShift), "Use 1 for no shift; upstream uses 4.");
        if (!Enum.IsDefined(Schedule))
            throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, $"Schedule must be one of {string.Join(", ", Enum.GetNames<Schedulers.TimeSchedule>())}.");
        if (Schedule == Schedulers.TimeSchedule.DiffusersFlowMatch && Solver == OdeMethod.DpmSolver)
            throw new ArgumentException("DPM-Solver++ runs on its own grid (TimeSchedule.Upstream); diffusers' schedule is for the Euler-family solvers.", nameof(Schedule));
        RequestValidation.NonNegative(GuidanceScale, nameof(GuidanceScale), "Upstream uses 4; 1 disables guidance.");
        if (NegativePrompt is null) throw new ArgumentNullException(nameof(NegativePrompt), "Use \"\" for no negative prompt.");
        RequestValidation.Guidance(GuidanceChannels, GuidanceTruncateAtTime, GuidanceTruncateAfterStepFraction, GuidanceClipToConditionalNorm);
        RequestValidation.SystemPrompt(SystemPrompt, nameof(SystemPrompt));
        RequestValidation.Positive(ScaleFactor, nameof(ScaleFactor), "Use null or 1 for no extrapolation.");
        RequestValidation.UnitInterval(ScaleWatershed, nameof(ScaleWatershed), allowZero: true, "Upstream's extrapolation preset uses 0.3.");
        StepCache?.Validate(nameof(StepCache));
        if (DynamicShifting is { } d)
        {
            try
            {
                d.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{nameof(DynamicShifting)}: {e.Message}", nameof(DynamicShifting), e);
            }
        }
    }

    /// <summary>The text of <see cref="SystemPrompt"/> (upstream's exact string; "" for "none").</summary>
    public string SystemPromptText => Lumina2SystemPrompt.Get(SystemPrompt);

    /// <summary>The RoPE scale factor a request of this size runs with (null = the model's default table).</summary>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public double? ScaleFactorFor(int width, int height)
    {
        if (ScaleFactor is { } s) return s;
        if (!AutoScaleFactor) return null;
        var auto = Math.Sqrt((double)width * height) / 1024.0;
        return auto > 1 ? auto : null;
    }
}
