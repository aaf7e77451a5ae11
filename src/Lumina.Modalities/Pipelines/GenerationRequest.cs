using Lumina.Guidance;
using Lumina.Sampling;
using Lumina.Solvers;

namespace Lumina.Pipelines;

/// <summary>
/// The sampling settings every request carries (<see cref="TextToImageRequest"/>, <see cref="ImageToImageRequest"/>,
/// <see cref="CompositionalRequest"/>, <see cref="Video.TextToVideoRequest"/>, <see cref="Audio.TextToAudioRequest"/>):
/// each is an override of the pipeline's <see cref="SamplingSettings"/> of the same name, and null keeps the pipeline's
/// value. Declared once here, so a field means the same in every modality. Immutable; use <c>with</c> to vary it.
/// </summary>
public abstract record GenerationRequest
{
    private protected GenerationRequest()
    {
    }

    /// <summary>The negative prompt (the unconditional half of classifier-free guidance). Null = the pipeline default ("").</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>
    /// Width in pixels: a multiple of 16 (VAE /8 × patch 2). Any aspect ratio. Null = the pipeline default (the model's
    /// training resolution: 1024 for the released Lumina models). Images and video frames only.
    /// </summary>
    public int? Width { get; init; }

    /// <summary>Height in pixels: a multiple of 16. Null = the pipeline default. Images and video frames only.</summary>
    public int? Height { get; init; }

    /// <summary>
    /// Solver steps (grid intervals; N steps walk N+1 grid points). Upstream's <c>num_sampling_steps = N</c> counts grid
    /// points, so it equals N−1 of these. Null = the pipeline default.
    /// </summary>
    public int? NumInferenceSteps { get; init; }

    /// <summary>ODE solver. Null = the pipeline default (midpoint for Lumina-Next, Euler for Lumina-T2I and music).</summary>
    public OdeMethod? Solver { get; init; }

    /// <summary>
    /// Time shift s of the grid, <c>t / (t + s − s·t)</c> (upstream <c>time_shifting_factor</c>). 1 = no shift. Setting it
    /// also turns off the pipeline's <see cref="SamplingSettings.DynamicShifting"/> for this request.
    /// </summary>
    public double? TimeShift { get; init; }

    /// <summary>Classifier-free guidance scale (upstream <c>cfg_scale</c>; 4 in the image demos, 1 = conditioned output only).</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>Which channels guidance acts on (see <see cref="SamplingSettings.GuidanceChannels"/>). Null = the pipeline default.</summary>
    public GuidanceChannels? GuidanceChannels { get; init; }

    /// <summary>Upstream truncation by flow time (<see cref="SamplingSettings.GuidanceTruncateAtTime"/>, <c>cfg_trunc</c>).</summary>
    public double? GuidanceTruncateAtTime { get; init; }

    /// <summary>diffusers truncation by step fraction (<see cref="SamplingSettings.GuidanceTruncateAfterStepFraction"/>, <c>cfg_trunc_ratio</c>).</summary>
    public double? GuidanceTruncateAfterStepFraction { get; init; }

    /// <summary>Upstream's <c>renorm_cfg</c> clip (<see cref="SamplingSettings.GuidanceClipToConditionalNorm"/>; 0 = off).</summary>
    public double? GuidanceClipToConditionalNorm { get; init; }

    /// <summary>diffusers' <c>cfg_normalization</c> (<see cref="SamplingSettings.GuidanceRescaleToConditionalNorm"/>).</summary>
    public bool? GuidanceRescaleToConditionalNorm { get; init; }

    /// <summary>
    /// The named system prompt (<see cref="SamplingSettings.SystemPrompt"/>: base, align, aesthetics, real, 4grid, none).
    /// Null = the pipeline default ("real" for Lumina-Image 2.0, "none" for the other families).
    /// </summary>
    public string? SystemPrompt { get; init; }

    /// <summary>
    /// Seed of the first output's noise; output i uses seed + i, so every output can be reproduced alone. Null picks a
    /// random seed, which is reported in the result (and the PNG metadata).
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>Time-aware RoPE scale factor (resolution extrapolation; sqrt(w·h)/1024). Null = the pipeline default. Images only.</summary>
    public double? ScaleFactor { get; init; }

    /// <summary>Time-aware scaling switch point in [0, 1] (upstream extrapolation preset 0.3; diffusers 1.0). Images only.</summary>
    public double? ScaleWatershed { get; init; }

    /// <summary>Proportional attention (scale by log of the token count relative to the training resolution).</summary>
    public bool? ProportionalAttention { get; init; }

    /// <summary>
    /// Step caching (skip transformer calls whose input barely changed, see <see cref="StepCacheOptions"/>). Null = the
    /// pipeline default (off unless configured); <c>new StepCacheOptions { Threshold = 0 }</c> evaluates every call.
    /// </summary>
    public StepCacheOptions? StepCache { get; init; }

    /// <summary>How many outputs (images, videos or clips) the request makes; output i uses seed + i.</summary>
    private protected abstract int OutputCount { get; }

    /// <summary>
    /// Checks every field and throws an <see cref="ArgumentException"/> whose <c>ParamName</c> names the first bad
    /// one. Pipelines call it before any model runs.
    /// </summary>
    public virtual void Validate()
    {
        if (Width is int width) RequestValidation.Side(width, 16, nameof(Width));
        if (Height is int height) RequestValidation.Side(height, 16, nameof(Height));
        RequestValidation.Steps(NumInferenceSteps, nameof(NumInferenceSteps));
        RequestValidation.Solver(Solver, nameof(Solver));
        RequestValidation.Positive(TimeShift, nameof(TimeShift), "Use 1 for no shift; upstream uses 4.");
        RequestValidation.NonNegative(GuidanceScale, nameof(GuidanceScale), "Upstream uses 4; 1 disables guidance.");
        RequestValidation.Guidance(GuidanceChannels, GuidanceTruncateAtTime, GuidanceTruncateAfterStepFraction, GuidanceClipToConditionalNorm);
        RequestValidation.SystemPrompt(SystemPrompt, nameof(SystemPrompt), allowNull: true);
        RequestValidation.Seeds(Seed, OutputCount, nameof(Seed));
        RequestValidation.Positive(ScaleFactor, nameof(ScaleFactor), "Use 1 for no extrapolation, or sqrt(w·h)/1024.");
        RequestValidation.UnitInterval(ScaleWatershed, nameof(ScaleWatershed), allowZero: true, "Upstream's extrapolation preset uses 0.3.");
        StepCache?.Validate(nameof(StepCache));
    }

    /// <summary>The settings this request runs with: its own values, else <paramref name="defaults"/> (the pipeline's settings).</summary>
    /// <param name="defaults">The pipeline's settings.</param>
    public SamplingSettings Resolve(SamplingSettings defaults) => (defaults ?? throw new ArgumentNullException(nameof(defaults))) with
    {
        Width = Width ?? defaults.Width ?? SamplingSettings.DefaultSide,
        Height = Height ?? defaults.Height ?? SamplingSettings.DefaultSide,
        Solver = Solver ?? defaults.Solver,
        NumInferenceSteps = NumInferenceSteps ?? defaults.NumInferenceSteps,
        TimeShift = TimeShift ?? defaults.TimeShift,
        DynamicShifting = TimeShift is null ? defaults.DynamicShifting : null, // an explicit shift wins over dynamic shifting
        GuidanceScale = GuidanceScale ?? defaults.GuidanceScale,
        GuidanceChannels = GuidanceChannels ?? defaults.GuidanceChannels,
        GuidanceTruncateAtTime = GuidanceTruncateAtTime ?? defaults.GuidanceTruncateAtTime,
        GuidanceTruncateAfterStepFraction = GuidanceTruncateAfterStepFraction ?? defaults.GuidanceTruncateAfterStepFraction,
        GuidanceClipToConditionalNorm = GuidanceClipToConditionalNorm ?? defaults.GuidanceClipToConditionalNorm,
        GuidanceRescaleToConditionalNorm = GuidanceRescaleToConditionalNorm ?? defaults.GuidanceRescaleToConditionalNorm,
        SystemPrompt = SystemPrompt ?? defaults.SystemPrompt,
        NegativePrompt = NegativePrompt ?? defaults.NegativePrompt,
        ScaleFactor = ScaleFactor ?? defaults.ScaleFactor,
        ScaleWatershed = ScaleWatershed ?? defaults.ScaleWatershed,
        ProportionalAttention = ProportionalAttention ?? defaults.ProportionalAttention,
        StepCache = StepCache ?? defaults.StepCache,
    };

    /// <summary>This request's seed, or a random one (reported in the result) when it gives none.</summary>
    internal long SeedOrRandom() => Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
}
