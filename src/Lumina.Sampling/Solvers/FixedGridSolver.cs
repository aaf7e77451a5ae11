using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// A solver that takes exactly one step per grid interval, as torchdiffeq's fixed-grid solvers do when no step size is
/// given: a method is its name, order, velocity calls per step and step rule (the increment over one interval).
/// </summary>
/// <param name="name">The torchdiffeq method name.</param>
/// <param name="order">The order of accuracy.</param>
/// <param name="evaluationsPerStep">Velocity calls per step.</param>
internal abstract class FixedGridSolver(string name, int order, int evaluationsPerStep) : OdeSolver
{
    /// <inheritdoc />
    public override string Name { get; } = name;

    /// <summary>The order of accuracy of the method.</summary>
    public int Order { get; } = order;

    /// <summary>Velocity calls per step.</summary>
    public int EvaluationsPerStep { get; } = evaluationsPerStep;

    /// <inheritdoc />
    public override OdeSolution Solve(VelocityFunction velocity, torch.Tensor x0, IReadOnlyList<double> times,
        SolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var run = new SolverRun(velocity, x0, times, options, cancellationToken);
        return run.StepThroughGrid(x0, (i, y) =>
        {
            var t0 = run.Round(times[i - 1]);
            var t1 = run.Round(times[i]);
            return y + Step(run, y, t0, run.Round(t1 - t0), t1);
        });
    }

    /// <summary>Computes the increment of one step from <paramref name="t0"/> to <paramref name="t1"/>.
    /// Runs inside a dispose scope; temporaries need no explicit disposal.</summary>
    private protected abstract torch.Tensor Step(SolverRun run, torch.Tensor y0, double t0, double dt, double t1);
}
