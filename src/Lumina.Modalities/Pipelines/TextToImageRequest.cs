using Lumina.Guidance;
using Lumina.Sampling;
using Lumina.Solvers;

namespace Lumina.Pipelines;

/// <summary>
/// What to generate: prompts and per-request settings. Properties left null take the pipeline's
/// <see cref="TextToImageSettings"/> (set through the builder or a preset). Immutable; use <c>with</c> to vary it.
/// </summary>
public record TextToImageRequest
{
    /// <summary>One prompt.</summary>
    /// <param name="prompt">What the image should show ("" is allowed: unconditional).</param>
    public TextToImageRequest(string prompt) => Prompts = [prompt];

    /// <summary>Several prompts; each gives <see cref="ImagesPerPrompt"/> images.</summary>
    /// <param name="prompts">The prompts, at least one.</param>
    public TextToImageRequest(IReadOnlyList<string> prompts) => Prompts = prompts;

    /// <summary>The prompts, in output order.</summary>
    public IReadOnlyList<string> Prompts { get; init; }

    /// <summary>The negative prompt (the unconditional half of classifier-free guidance). Null = the pipeline default ("").</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>
    /// Image width in pixels: a multiple of 16 (VAE /8 × patch 2). Any aspect ratio. Null = the pipeline default (the
    /// model's training resolution: 1024 for the released Lumina models).
    /// </summary>
    public int? Width { get; init; }

    /// <summary>Image height in pixels: a multiple of 16. Null = the pipeline default.</summary>
    public int? Height { get; init; }

    /// <summary>
    /// Solver steps (grid intervals; N steps walk N+1 grid points). Upstream's <c>num_sampling_steps = N</c> counts grid
    /// points, so it equals N−1 of these. Null = the pipeline default.
    /// </summary>
    public int? NumInferenceSteps { get; init; }

    /// <summary>ODE solver. Null = the pipeline default (midpoint for Lumina-Next, Euler for Lumina-T2I).</summary>
    public OdeMethod? Solver { get; init; }

    /// <summary>Time shift s of the grid, <c>t / (t + s − s·t)</c> (upstream <c>time_shifting_factor</c>). 1 = no shift.</summary>
    public double? TimeShift { get; init; }

    /// <summary>Classifier-free guidance scale (upstream <c>cfg_scale</c>; 4 in the demos, 1 = conditioned output only).</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>Which channels guidance acts on (see <see cref="TextToImageSettings.GuidanceChannels"/>). Null = the pipeline default.</summary>
    public GuidanceChannels? GuidanceChannels { get; init; }

    /// <summary>
    /// Upstream truncation by flow time (<see cref="TextToImageSettings.GuidanceTruncateAtTime"/>, <c>cfg_trunc</c>).
    /// Null = the pipeline default.
    /// </summary>
    public double? GuidanceTruncateAtTime { get; init; }

    /// <summary>
    /// diffusers truncation by step fraction (<see cref="TextToImageSettings.GuidanceTruncateAfterStepFraction"/>,
    /// <c>cfg_trunc_ratio</c>; 1 guides every step). Null = the pipeline default.
    /// </summary>
    public double? GuidanceTruncateAfterStepFraction { get; init; }

    /// <summary>Upstream's <c>renorm_cfg</c> clip (<see cref="TextToImageSettings.GuidanceClipToConditionalNorm"/>; 0 = off). Null = the pipeline default.</summary>
    public double? GuidanceClipToConditionalNorm { get; init; }

    /// <summary>diffusers' <c>cfg_normalization</c> (<see cref="TextToImageSettings.GuidanceRescaleToConditionalNorm"/>). Null = the pipeline default.</summary>
    public bool? GuidanceRescaleToConditionalNorm { get; init; }

    /// <summary>
    /// The named system prompt (<see cref="TextToImageSettings.SystemPrompt"/>: base, align, aesthetics, real, 4grid,
    /// none). Null = the pipeline default ("real" for Lumina-Image 2.0, "none" for the other families).
    /// </summary>
    public string? SystemPrompt { get; init; }

    /// <summary>
    /// Seed of the first image's noise; image i uses seed + i, so every image can be reproduced alone. Null picks a
    /// random seed, which is reported in the result and the PNG metadata.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>How many images each prompt gives (1 to 64 in total).</summary>
    public int ImagesPerPrompt { get; init; } = 1;

    /// <summary>
    /// Resolution extrapolation: the time-aware RoPE scale factor. Null = the pipeline default (off unless the
    /// extrapolation preset is used, which sets it to sqrt(w·h)/1024).
    /// </summary>
    public double? ScaleFactor { get; init; }

    /// <summary>Time-aware scaling switch point in [0, 1] (upstream extrapolation preset 0.3; diffusers 1.0).</summary>
    public double? ScaleWatershed { get; init; }

    /// <summary>Proportional attention (scale by log of the token count relative to the training resolution).</summary>
    public bool? ProportionalAttention { get; init; }

    /// <summary>
    /// Step caching (skip transformer calls whose input barely changed, see <see cref="StepCacheOptions"/>). Null = the
    /// pipeline default (off unless configured); <c>new StepCacheOptions { Threshold = 0 }</c> evaluates every call.
    /// </summary>
    public StepCacheOptions? StepCache { get; init; }

    /// <summary>Total number of images: prompts × images per prompt.</summary>
    public int ImageCount => (Prompts?.Count ?? 0) * ImagesPerPrompt;

    /// <summary>
    /// Checks every field and throws an <see cref="ArgumentException"/> whose <c>ParamName</c> names the first bad
    /// one. Pipelines call it before any model runs.
    /// </summary>
    public virtual void Validate()
    {
        RequestValidation.Prompts(Prompts, nameof(Prompts));
        if (Width is int width) RequestValidation.Side(width, 16, nameof(Width));
        if (Height is int height) RequestValidation.Side(height, 16, nameof(Height));
        RequestValidation.Steps(NumInferenceSteps, nameof(NumInferenceSteps));
        RequestValidation.Solver(Solver, nameof(Solver));
        RequestValidation.Positive(TimeShift, nameof(TimeShift), "Use 1 for no shift; upstream uses 4.");
        RequestValidation.NonNegative(GuidanceScale, nameof(GuidanceScale), "Upstream uses 4; 1 disables guidance.");
        RequestValidation.Guidance(GuidanceChannels, GuidanceTruncateAtTime, GuidanceTruncateAfterStepFraction, GuidanceClipToConditionalNorm);
        RequestValidation.SystemPrompt(SystemPrompt, nameof(SystemPrompt), allowNull: true);
        if (ImagesPerPrompt < 1 || ImageCount > RequestValidation.MaxImages)
            throw new ArgumentOutOfRangeException(nameof(ImagesPerPrompt), ImagesPerPrompt,
                $"{nameof(ImagesPerPrompt)} must be ≥ 1 and prompts × images per prompt at most {RequestValidation.MaxImages}; got {ImagesPerPrompt} × {Prompts.Count}.");
        RequestValidation.Seeds(Seed, ImageCount, nameof(Seed));
        RequestValidation.Positive(ScaleFactor, nameof(ScaleFactor), "Use 1 for no extrapolation, or sqrt(w·h)/1024.");
        RequestValidation.UnitInterval(ScaleWatershed, nameof(ScaleWatershed), allowZero: true, "Upstream's extrapolation preset uses 0.3.");
        StepCache?.Validate(nameof(StepCache));
    }

    /// <summary>The settings this request runs with: its own values, else <paramref name="defaults"/> (the pipeline's settings).</summary>
    /// <param name="defaults">The pipeline's settings.</param>
    public TextToImageSettings Resolve(TextToImageSettings defaults) => (defaults ?? throw new ArgumentNullException(nameof(defaults))) with
    {
        Width = Width ?? defaults.Width ?? TextToImageSettings.DefaultSide,
        Height = Height ?? defaults.Height ?? TextToImageSettings.DefaultSide,
        Solver = Solver ?? defaults.Solver,
        NumInferenceSteps = NumInferenceSteps ?? defaults.NumInferenceSteps,
        TimeShift = TimeShift ?? defaults.TimeShift,
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
}
