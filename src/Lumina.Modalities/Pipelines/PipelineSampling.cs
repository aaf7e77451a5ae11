using Lumina.Guidance;
using Lumina.Models.DiT;
using Lumina.Sampling;
using Lumina.Schedulers;
using Lumina.Solvers;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// How the pipelines turn their settings into one run of the sampling loop (<see cref="FlowSampling"/>): the solver's
/// grid (<see cref="TimeGrid.ForSolver"/>: shift, img2img start), guidance at the settings' scale, step caching, and
/// the per-call DiT options.
/// </summary>
internal static class PipelineSampling
{
    /// <summary>
    /// The time grid of a run over <paramref name="imageTokens"/> latent tokens (its shift:
    /// <see cref="SamplingSettings.TimeShiftFor"/>, dynamic when the settings say so), cut to its img2img start when
    /// <paramref name="strength"/> &lt; 1.
    /// </summary>
    public static double[] Grid(SamplingSettings settings, int imageTokens, double strength = 1.0)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return TimeGrid.ForSolver(settings.Solver, settings.NumInferenceSteps, settings.TimeShiftFor(imageTokens), strength, settings.Schedule);
    }

    /// <summary>
    /// The starting noise of one output: fp32 <c>torch.randn(shape)</c> from PyTorch's CPU generator seeded with
    /// <paramref name="seed"/>, so a seed gives upstream's noise. The one place image, compositional, video and audio draw it.
    /// </summary>
    public static Tensor InitialNoise(long seed, params long[] shape)
    {
        using var generator = new Generator((ulong)seed);
        return InitialNoise(generator, shape);
    }

    /// <summary>
    /// <see cref="InitialNoise(long, long[])"/> from a generator the caller keeps drawing from afterwards (img2img samples
    /// the VAE posterior from the same generator after the noise, as upstream does).
    /// </summary>
    public static Tensor InitialNoise(Generator generator, params long[] shape) =>
        randn(shape, dtype: ScalarType.Float32, generator: generator);

    /// <summary>The latent tokens a transformer with <paramref name="patchSize"/> sees for <paramref name="latents"/> [B, C, …].</summary>
    public static int Tokens(Tensor latents, int patchSize)
    {
        var tokens = 1L;
        for (var d = 2; d < latents.dim(); d++) tokens *= latents.shape[d] / (d >= latents.dim() - 2 ? patchSize : 1);
        return (int)tokens;
    }

    /// <summary>The loop options of a run with these settings.</summary>
    public static FlowSamplingOptions Options(SamplingSettings settings, int imageTokens, double strength, IProgress<SamplingProgress>? progress,
        ModelEvaluationCounter? evaluations, SamplingStepCallback? stepEnd = null) => new()
    {
        Grid = Grid(settings, imageTokens, strength),
        Solver = OdeSolver.Create(settings.Solver),
        Guidance = Guidance(settings),
        StepCache = settings.StepCache,
        Progress = progress,
        Evaluations = evaluations,
        StepCallback = stepEnd,
    };

    /// <summary>
    /// The settings' guidance fields as Sampling's <see cref="GuidanceOptions"/>: the one place a pipeline's guidance
    /// settings (scale, channels, truncation by time or step fraction, clip or rescale) become the loop's.
    /// </summary>
    public static GuidanceOptions Guidance(SamplingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new GuidanceOptions
        {
            Scale = settings.GuidanceScale,
            Channels = settings.GuidanceChannels,
            TruncateAtTime = settings.GuidanceTruncateAtTime,
            TruncateAfterStepFraction = settings.GuidanceTruncateAfterStepFraction,
            ClipToConditionalNorm = settings.GuidanceClipToConditionalNorm,
            RescaleToConditionalNorm = settings.GuidanceRescaleToConditionalNorm,
        };
    }

    /// <summary>The per-call DiT options: RoPE scale factor (null = the model's table), watershed, proportional attention.</summary>
    public static DiTForwardOptions Forward(SamplingSettings settings, double? scaleFactor) => new()
    {
        ScaleFactor = scaleFactor,
        ScaleWatershed = settings.ScaleWatershed,
        ProportionalAttention = settings.ProportionalAttention,
    };
}
