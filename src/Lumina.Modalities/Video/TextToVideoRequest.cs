using Lumina.Sampling;
using Lumina.Pipelines;
using Lumina.Solvers;

namespace Lumina.Video;

/// <summary>
/// What video to generate. Properties left null take the pipeline's <see cref="TextToImageSettings"/>. Immutable; use
/// <c>with</c> to vary it.
/// </summary>
public sealed record TextToVideoRequest
{
    /// <summary>The most frames one request may ask for.</summary>
    public const int MaxFrames = 256;

    /// <summary>One video of <paramref name="prompt"/>.</summary>
    /// <param name="prompt">What the video should show ("" is allowed: unconditional).</param>
    public TextToVideoRequest(string prompt) => Prompt = prompt;

    /// <summary>The prompt.</summary>
    public string Prompt { get; init; }

    /// <summary>The negative prompt (the unconditional half of guidance). Null = the pipeline default ("").</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>Number of frames (1 to <see cref="MaxFrames"/>); each frame is one latent frame (the VAE is per frame).</summary>
    public int Frames { get; init; } = 16;

    /// <summary>
    /// Frame width in pixels: a multiple of 16 (VAE /8 × patch 2). Null = the pipeline default (the model's training
    /// resolution from its <c>sample_size</c>, else 1024).
    /// </summary>
    public int? Width { get; init; }

    /// <summary>Frame height in pixels: a multiple of 16. Null = the pipeline default.</summary>
    public int? Height { get; init; }

    /// <summary>Solver steps (grid intervals). Null = the pipeline default.</summary>
    public int? NumInferenceSteps { get; init; }

    /// <summary>ODE solver. Null = the pipeline default.</summary>
    public OdeMethod? Solver { get; init; }

    /// <summary>Time shift of the grid (1 = none). Null = the pipeline default.</summary>
    public double? TimeShift { get; init; }

    /// <summary>Classifier-free guidance scale. Null = the pipeline default.</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>Noise seed. Null = random (reported in the result).</summary>
    public long? Seed { get; init; }

    /// <summary>Proportional attention over the whole video sequence. Null = the pipeline default.</summary>
    public bool? ProportionalAttention { get; init; }

    /// <summary>Step caching (see <see cref="StepCacheOptions"/>). Null = the pipeline default.</summary>
    public StepCacheOptions? StepCache { get; init; }

    /// <summary>
    /// Checks every field and throws an <see cref="ArgumentException"/> whose <c>ParamName</c> names the first bad one.
    /// The pipeline calls it before any model runs.
    /// </summary>
    public void Validate()
    {
        if (Prompt is null) throw new ArgumentNullException(nameof(Prompt), "Use \"\" for an unconditional video.");
        RequestValidation.Count(Frames, MaxFrames, nameof(Frames));
        AsImageRequest().Validate();
    }

    /// <summary>The shared settings as a text-to-image request (same property names, so validation names the same field).</summary>
    internal TextToImageRequest AsImageRequest() => new(Prompt)
    {
        NegativePrompt = NegativePrompt, Width = Width, Height = Height, NumInferenceSteps = NumInferenceSteps, Solver = Solver,
        TimeShift = TimeShift, GuidanceScale = GuidanceScale, Seed = Seed, ProportionalAttention = ProportionalAttention,
        StepCache = StepCache,
    };
}
