using Lumina.Models.TextEncoders;
using Lumina.Schedulers;
using Lumina.Solvers;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// The pipelines' sampling loop, as upstream <c>transport.sample_ode</c> runs it: the state is the noise repeated
/// ×2 ([cond; uncond]), the velocity is the transformer's <c>forward_with_cfg</c> at t cast to the latent dtype, the
/// grid is <c>linspace(0, 1, steps + 1)</c> shifted by s, and the first half of the final state is the sample.
/// </summary>
public static class FlowSampler
{
    /// <summary>Samples latents [1, C, h, w] from <paramref name="noise"/> with the guided velocity of <paramref name="transformer"/>; see the class summary.</summary>
    /// <param name="transformer">The DiT.</param>
    /// <param name="noise">Latents at t = 0, [B, C, h, w].</param>
    /// <param name="captions">Caption features for [prompts; negative prompts] (2B rows).</param>
    /// <param name="settings">Solver, steps, shift, guidance, watershed and proportional attention.</param>
    /// <param name="scaleFactor">Time-aware RoPE scale factor; null = none.</param>
    /// <param name="progress">Receives a report per solver step.</param>
    /// <param name="cancellationToken">Checked before every model call.</param>
    /// <param name="strength">img2img: the grid starts at <see cref="Grid"/>(settings, strength)[0], where
    /// <paramref name="noise"/> must already be the mixed start latent; 1 = the whole grid.</param>
    /// <param name="evaluations">Counts the transformer calls that ran and those step caching skipped
    /// (<see cref="TextToImageSettings.StepCache"/>); null = not counted.</param>
    public static Tensor Sample(IImageTransformer transformer, Tensor noise, CaptionEmbeddings captions, TextToImageSettings settings,
        double? scaleFactor, IProgress<SamplingProgress>? progress, CancellationToken cancellationToken, double strength = 1.0,
        ModelEvaluationCounter? evaluations = null)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (noise.dim() != 4 || noise.shape[1] != transformer.LatentChannels)
            throw new ArgumentException($"Noise must be [B, {transformer.LatentChannels}, h, w]; got [{string.Join(", ", noise.shape)}].", nameof(noise));
        if (captions.BatchSize != 2 * noise.shape[0])
            throw new ArgumentException(
                $"Captions must hold [prompts; negative prompts] = {2 * noise.shape[0]} rows for {noise.shape[0]} latents; got {captions.BatchSize}.", nameof(captions));
        using var cache = settings.StepCache is { } cacheOptions ? new StepCache(cacheOptions) : null;
        var call = new TransformerCallOptions(scaleFactor, settings.ScaleWatershed, settings.ProportionalAttention) { BlockCache = cache };
        var guidance = settings.GuidanceScale;
        return SampleGuided((x, t) => transformer.GuidedVelocity(x, t, captions, guidance, call), noise, settings, progress, cancellationToken,
            strength, cache, evaluations);
    }

    /// <summary>
    /// The loop of <see cref="Sample"/> for any guided velocity over the doubled batch (compositional and video
    /// pipelines): the state is <c>[noise; noise]</c> of any rank, <paramref name="guidedVelocity"/> gets it with t
    /// [2B] in the latent dtype, and the first half of the final state is returned. With a <paramref name="cache"/> (which
    /// the velocity's transformer consults), every call of the first and the last solver step is forced to evaluate;
    /// <paramref name="evaluations"/> counts calls run and skipped.
    /// </summary>
    internal static Tensor SampleGuided(Func<Tensor, Tensor, Tensor> guidedVelocity, Tensor noise, TextToImageSettings settings,
        IProgress<SamplingProgress>? progress, CancellationToken cancellationToken, double strength = 1.0,
        StepCache? cache = null, ModelEvaluationCounter? evaluations = null)
    {
        var grid = Grid(settings, strength);
        // The solver reports each finished grid interval synchronously, which tells the calls of which step come next.
        var stepsDone = 0;
        var lastStep = grid.Length - 2;
        var solveProgress = new StepTracker(p =>
        {
            stepsDone = p.Step;
            progress?.Report(p);
        });
        using var scope = NewDisposeScope();
        var state = cat([noise, noise], 0);
        Tensor Velocity(Tensor x, double t)
        {
            using var inner = NewDisposeScope();
            if (cache is not null && (stepsDone == 0 || stepsDone >= lastStep)) cache.ForceNextEvaluation();
            var tt = full([x.shape[0]], t, dtype: x.dtype, device: x.device);
            var skippedBefore = cache?.Skipped ?? 0;
            var velocity = guidedVelocity(x, tt);
            evaluations?.Record(wasSkipped: (cache?.Skipped ?? 0) > skippedBefore);
            return velocity.MoveToOuterDisposeScope();
        }
        using var solution = OdeSolver.Create(settings.Solver).Solve(Velocity, state, grid,
            new SolveOptions { Progress = solveProgress }, cancellationToken);
        return solution.Final.narrow(0, 0, noise.shape[0]).clone().MoveToOuterDisposeScope();
    }

    private sealed class StepTracker(Action<SamplingProgress> report) : IProgress<SamplingProgress>
    {
        public void Report(SamplingProgress value) => report(value);
    }

    /// <summary>
    /// The time grid of a run (<see cref="TimeGrid.ForSolver"/>): <c>linspace(0, 1, steps + 1)</c> shifted by the settings'
    /// time shift (none at 1), or DPM-Solver++'s own grid for <see cref="OdeMethod.DpmSolver"/>; cut to its img2img start
    /// when <paramref name="strength"/> &lt; 1.
    /// </summary>
    public static double[] Grid(TextToImageSettings settings, double strength = 1.0)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return TimeGrid.ForSolver(settings.Solver, settings.NumInferenceSteps, settings.TimeShift, strength, settings.Schedule);
    }
}
