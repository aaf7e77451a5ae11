using Lumina.Solvers;

namespace Lumina.Guidance;

/// <summary>
/// Turns a <see cref="GuidanceModel"/> into the <see cref="VelocityFunction"/> a solver integrates, with
/// <see cref="ClassifierFreeGuidance"/> as <see cref="GuidanceOptions"/> configure it. The sampling loop
/// uses these; they are public for driving a solver by hand.
/// </summary>
internal static class GuidedVelocity
{
    /// <summary>
    /// The plain layout: the solver state is the batch [B]; a guided call runs the model on [x; x] and returns the
    /// guided [B] (see <see cref="ClassifierFreeGuidance.Velocity"/>).
    /// </summary>
    /// <param name="model">The model over the batch it is handed.</param>
    /// <param name="options">Guidance settings; null = the defaults.</param>
    /// <param name="grid">The run's time grid: needed for <see cref="GuidanceOptions.TruncateAfterStepFraction"/>, which
    /// reads the interval each call's time falls in.</param>
    public static VelocityFunction ForBatch(GuidanceModel model, GuidanceOptions? options = null, IReadOnlyList<double>? grid = null) =>
        Guided(model, options, grid, ClassifierFreeGuidance.Velocity);

    /// <summary>
    /// Upstream's layout: the solver state is the doubled batch [2B] (the noise repeated ×2); every call runs the model
    /// on [first half; first half] and writes the guided result into both halves (<c>forward_with_cfg</c>). Read the
    /// first half of the result at the end.
    /// </summary>
    /// <param name="model">The model over the batch it is handed.</param>
    /// <param name="options">Guidance settings; null = the defaults.</param>
    /// <param name="grid">The run's time grid (for step-fraction truncation).</param>
    public static VelocityFunction ForDoubledBatch(GuidanceModel model, GuidanceOptions? options = null, IReadOnlyList<double>? grid = null) =>
        Guided(model, options, grid, ClassifierFreeGuidance.DoubledBatchVelocity);

    /// <summary>Unguided velocity: every call runs the conditional half alone (x [B, …]).</summary>
    /// <param name="model">The model.</param>
    public static VelocityFunction Unguided(GuidanceModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (x, t) =>
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var time = TorchSharp.torch.full([x.shape[0]], t, dtype: x.dtype, device: x.device);
            return model(x, time, GuidanceBatch.ConditionalOnly).MoveToOuterDisposeScope();
        };
    }

    /// <summary>One guided call of a layout: the model, the state, the time, the options and the grid interval.</summary>
    private delegate TorchSharp.torch.Tensor GuidedCall(GuidanceModel model, TorchSharp.torch.Tensor x, double time, GuidanceOptions options,
        int? step, int? totalSteps);

    /// <summary>Checks the options once, then finds each call's grid interval and runs the layout's guided call.</summary>
    private static VelocityFunction Guided(GuidanceModel model, GuidanceOptions? options, IReadOnlyList<double>? grid, GuidedCall call)
    {
        ArgumentNullException.ThrowIfNull(model);
        var checkedOptions = Checked(options, grid);
        return (x, t) =>
        {
            var (step, total) = GridPosition.Of(grid, t);
            return call(model, x, t, checkedOptions, step, total);
        };
    }

    private static GuidanceOptions Checked(GuidanceOptions? options, IReadOnlyList<double>? grid)
    {
        options ??= new GuidanceOptions();
        options.Validate();
        if (options.TruncateAfterStepFraction is not null && (grid is null || grid.Count < 2))
            throw new ArgumentException("TruncateAfterStepFraction needs the run's time grid (at least 2 points) to know each call's step.", nameof(grid));
        return options;
    }
}

/// <summary>Which grid interval a solver's evaluation time belongs to.</summary>
internal static class GridPosition
{
    /// <summary>The 0-based interval i with <c>grid[i] ≤ t &lt; grid[i+1]</c> (in the grid's direction, compared in
    /// float32 as the solvers round times), and the interval count; (null, null) without a grid.</summary>
    public static (int? Step, int? Total) Of(IReadOnlyList<double>? grid, double t)
    {
        if (grid is null || grid.Count < 2) return (null, null);
        var total = grid.Count - 1;
        var sign = grid[^1] >= grid[0] ? 1.0 : -1.0;
        var ft = (float)t * sign;
        var step = 0;
        for (var i = 1; i < total; i++)
        {
            if ((float)grid[i] * sign <= ft) step = i;
            else break;
        }
        return (step, total);
    }
}
