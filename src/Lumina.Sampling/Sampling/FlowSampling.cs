using Lumina.Guidance;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Sampling;

/// <summary>
/// Settings of one run of the sampling loop (<see cref="FlowSampling"/>): the time grid, the solver, guidance, step
/// caching, progress and the step-end callback.
/// </summary>
public sealed record FlowSamplingOptions
{
    /// <summary>
    /// The time grid, t = 0 noise → 1 data: build it with <see cref="Schedulers.TimeGrid"/> (<c>ForSolver</c> for the
    /// solver's own grid, <c>Create</c> for shift and img2img start, <c>DynamicShift</c> for resolution-dependent shift).
    /// </summary>
    public required IReadOnlyList<double> Grid { get; init; }

    /// <summary>The solver (any <see cref="OdeSolver"/>: fixed-grid, multistep such as DPM-Solver++, or adaptive); default Euler.</summary>
    public OdeSolver Solver { get; init; } = new EulerSolver();

    /// <summary>Classifier-free guidance; null runs the conditional rows alone (no guidance).</summary>
    public GuidanceOptions? Guidance { get; init; }

    /// <summary>
    /// Upstream's layout: the state is the noise repeated ×2 and each guided call writes its result into both halves
    /// (<see cref="ClassifierFreeGuidance.DoubledBatchVelocity"/>); the returned sample is the first half either way.
    /// Needs <see cref="Guidance"/>. Default false: the state is the plain batch.
    /// </summary>
    public bool DoubledState { get; init; }

    /// <summary>Step caching for a model that supports it (see <see cref="StepCache"/>); null = off. The calls of the
    /// first and the last step always evaluate.</summary>
    public StepCacheOptions? StepCache { get; init; }

    /// <summary>Receives a report after each grid interval.</summary>
    public IProgress<SamplingProgress>? Progress { get; init; }

    /// <summary>diffusers' <c>callback_on_step_end</c>: reads the latents after each step and may replace them or stop
    /// the run (see <see cref="SamplingStepCallback"/>). In the doubled layout it sees the [2B] state.</summary>
    public SamplingStepCallback? StepCallback { get; init; }

    /// <summary>Keep the state at every grid point (<see cref="OdeSolution.Trajectory"/>), in the state's layout.</summary>
    public bool KeepTrajectory { get; init; }

    /// <summary>Counts the model calls that ran and those step caching skipped; null = not counted.</summary>
    public ModelEvaluationCounter? Evaluations { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Grid is null || Grid.Count < 2)
            throw new ArgumentException("FlowSamplingOptions.Grid needs at least 2 times (N times give N − 1 steps).");
        if (Solver is null) throw new ArgumentException("FlowSamplingOptions.Solver is null; use e.g. new EulerSolver().");
        Guidance?.Validate();
        if (DoubledState && Guidance is null)
            throw new ArgumentException("DoubledState holds [cond; uncond] and needs Guidance; set Guidance or turn DoubledState off.");
        StepCache?.Validate(nameof(StepCache));
    }
}

/// <summary>
/// The sampling loop, the only one in the SDK: image, compositional, video and audio generation and the training
/// evaluator all run it. Per model call it builds the guided velocity (<see cref="ClassifierFreeGuidance"/>, with the
/// step index for step-fraction truncation), forces step-cache evaluations on the first and last step and counts the
/// calls; the solver integrates it over the grid with progress, cancellation and the step-end callback.
/// </summary>
public static class FlowSampling
{
    /// <summary>Samples from <paramref name="noise"/> (the state at <c>Grid[0]</c>) with a family-agnostic model.</summary>
    /// <param name="model">The model over the rows guidance asks for.</param>
    /// <param name="noise">The start state [B, …] (noise, or the img2img mix at <c>Grid[0]</c>). Not modified.</param>
    /// <param name="options">Grid, solver, guidance, callbacks.</param>
    /// <param name="cancellationToken">Checked before every model call.</param>
    /// <returns>The solution; <see cref="OdeSolution.Final"/> is the sample [B, …] (the first half in the doubled layout).</returns>
    public static OdeSolution Run(GuidanceModel model, Tensor noise, FlowSamplingOptions options, CancellationToken cancellationToken = default) =>
        Run(model, noise, options, cancellationToken, null);

    /// <summary>The loop of <see cref="Run(GuidanceModel, Tensor, FlowSamplingOptions, CancellationToken)"/> with the step cache
    /// the model consults (<see cref="Run(IDiffusionTransformer, Tensor, DiTConditioning, FlowSamplingOptions, DiTForwardOptions?, CancellationToken)"/> makes it).</summary>
    internal static OdeSolution Run(GuidanceModel model, Tensor noise, FlowSamplingOptions options, CancellationToken cancellationToken,
        StepCache? cache)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var grid = options.Grid;
        var total = grid.Count - 1;
        var guidance = options.Guidance;
        var evaluations = options.Evaluations;
        // The solvers report each finished grid interval synchronously, so the completed count is the index of the
        // interval every later call belongs to (a grid time alone cannot tell: Heun's second call at t1 belongs to step i).
        var step = 0;
        var tracker = new StepTracker(p =>
        {
            step = p.Step;
            options.Progress?.Report(p);
        });

        Tensor Velocity(Tensor x, double t)
        {
            using var scope = NewDisposeScope();
            if (cache is not null && (step == 0 || step >= total - 1)) cache.ForceNextEvaluation();
            var skippedBefore = cache?.Skipped ?? 0;
            Tensor v;
            if (guidance is null)
                v = model(x, full([x.shape[0]], t, dtype: x.dtype, device: x.device), GuidanceBatch.ConditionalOnly);
            else if (options.DoubledState)
                v = ClassifierFreeGuidance.DoubledBatchVelocity(model, x, t, guidance, step, total);
            else
                v = ClassifierFreeGuidance.Velocity(model, x, t, guidance, step, total);
            evaluations?.Record(wasSkipped: (cache?.Skipped ?? 0) > skippedBefore);
            return v.MoveToOuterDisposeScope();
        }

        // The solver copies its start state, so the plain layout hands it the noise itself.
        using var doubled = options.DoubledState ? cat([noise, noise], 0) : null;
        var solution = options.Solver.Solve(Velocity, doubled ?? noise, grid, new SolveOptions
        {
            Progress = tracker,
            StepCallback = options.StepCallback,
            KeepTrajectory = options.KeepTrajectory,
        }, cancellationToken);
        if (!options.DoubledState) return solution;
        Tensor first;
        using (NewDisposeScope()) first = solution.Final.narrow(0, 0, noise.shape[0]).clone().MoveToOuterDisposeScope();
        return solution.WithFinal(first);
    }

    private sealed class StepTracker(Action<SamplingProgress> report) : IProgress<SamplingProgress>
    {
        public void Report(SamplingProgress value) => report(value);
    }

    /// <summary>
    /// Samples with a DiT (the DiT contract): each call is <see cref="IDiffusionTransformer.Forward"/> on the rows guidance
    /// asks for, under <c>no_grad</c>, with <paramref name="forward"/>'s per-call options and the run's step cache.
    /// </summary>
    /// <param name="transformer">The DiT.</param>
    /// <param name="noise">The start state [B, C, …].</param>
    /// <param name="conditioning">Captions or regional captions: 2B rows [cond; uncond] with guidance, B rows without.</param>
    /// <param name="options">Grid, solver, guidance, callbacks.</param>
    /// <param name="forward">RoPE scaling and attention options for every call (its cache is replaced by the run's).</param>
    /// <param name="cancellationToken">Checked before every model call.</param>
    public static OdeSolution Run(IDiffusionTransformer transformer, Tensor noise, DiTConditioning conditioning, FlowSamplingOptions options,
        DiTForwardOptions? forward = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(conditioning);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (noise.dim() < 2 || noise.shape[1] != transformer.LatentChannels)
            throw new ArgumentException($"The noise must be [B, {transformer.LatentChannels}, …] for this transformer; got [{string.Join(", ", noise.shape)}].", nameof(noise));
        var rows = options.Guidance is null ? noise.shape[0] : 2 * noise.shape[0];
        if (conditioning.Rows != rows)
            throw new ArgumentException(
                options.Guidance is null
                    ? $"Without guidance the conditioning must hold one row per latent ({rows}); got {conditioning.Rows}."
                    : $"With guidance the conditioning must hold [prompts; negative prompts] = {rows} rows for {noise.shape[0]} latents; got {conditioning.Rows}.",
                nameof(conditioning));
        if (!transformer.Supports(conditioning.Kind))
            throw new NotSupportedException($"{transformer.GetType().Name} does not accept {conditioning.Kind} conditioning.");
        using var cache = options.StepCache is { } cacheOptions ? new StepCache(cacheOptions) : null;
        var callOptions = (forward ?? DiTForwardOptions.Default) with { BlockCache = cache };
        GuidanceModel model = (x, t, batch) =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var input = conditioning.InputFor(x, t, x.shape[0]) with { Options = callOptions };
            return transformer.Forward(input).MoveToOuterDisposeScope();
        };
        return Run(model, noise, options, cancellationToken, cache);
    }
}

/// <summary>
/// The conditioning of a DiT sampling run for all its rows ([cond; uncond] with guidance): caption embeddings or
/// regional captions. Does not own the tensors.
/// </summary>
public sealed record DiTConditioning
{
    private DiTConditioning(CaptionEmbeddings? captions, RegionalCaptions? regions) => (Captions, Regions) = (captions, regions);

    /// <summary>Caption features and masks, one row per sample.</summary>
    public CaptionEmbeddings? Captions { get; }

    /// <summary>Regional captions (compositional generation).</summary>
    public RegionalCaptions? Regions { get; }

    /// <summary>Which kind this is.</summary>
    public DiTConditioningKind Kind => Regions is null ? DiTConditioningKind.Captions : DiTConditioningKind.Regions;

    /// <summary>Rows held (2B for [cond; uncond]).</summary>
    public long Rows => Regions?.GlobalFeatures.shape[0] ?? Captions!.BatchSize;

    /// <summary>Conditioning by captions.</summary>
    /// <param name="captions">Rows [prompts; negative prompts] (or the prompts alone without guidance).</param>
    public static DiTConditioning FromCaptions(CaptionEmbeddings captions)
    {
        ArgumentNullException.ThrowIfNull(captions);
        return new DiTConditioning(captions, null);
    }

    /// <summary>Conditioning by regional captions.</summary>
    /// <param name="regions">Region and global captions for every row.</param>
    public static DiTConditioning FromRegions(RegionalCaptions regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        return new DiTConditioning(null, regions);
    }

    /// <summary>The DiT input for a call on the first <paramref name="rows"/> rows (all of them for [cond; uncond], the
    /// conditional half for a truncated step). The narrowed tensors are views.</summary>
    internal DiTInput InputFor(Tensor x, Tensor t, long rows)
    {
        if (Regions is { } r)
        {
            var sliced = rows == Rows ? r : r with
            {
                RegionFeatures = r.RegionFeatures.narrow(0, 0, rows), RegionMask = r.RegionMask.narrow(0, 0, rows),
                GlobalFeatures = r.GlobalFeatures.narrow(0, 0, rows), GlobalMask = r.GlobalMask.narrow(0, 0, rows),
            };
            return new DiTInput(x, t) { Regions = sliced };
        }
        var c = Captions!;
        var captions = rows == Rows ? c : new CaptionEmbeddings(c.Features.narrow(0, 0, rows), c.Mask.narrow(0, 0, rows));
        return new DiTInput(x, t) { Captions = captions };
    }
}
