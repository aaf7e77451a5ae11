using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// A solver that takes exactly one step per grid interval, as torchdiffeq's fixed-grid solvers do when no
/// step size is given. Each step runs inside its own dispose scope, so a run holds the same native memory
/// whatever its number of steps.
/// </summary>
internal abstract class FixedGridSolver : OdeSolver
{
    /// <summary>The order of accuracy of the method.</summary>
    public abstract int Order { get; }

    /// <summary>Velocity calls per step.</summary>
    public abstract int EvaluationsPerStep { get; }

    /// <inheritdoc />
    public override OdeSolution Solve(VelocityFunction velocity, torch.Tensor x0, IReadOnlyList<double> times,
        SolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var run = new SolverRun(velocity, x0, times, options, cancellationToken);
        var y = SolverRun.Copy(x0);
        try
        {
            for (var i = 1; i < times.Count; i++)
            {
                run.ThrowIfCancelled();
                var t0 = run.Round(times[i - 1]);
                var t1 = run.Round(times[i]);
                var dt = run.Round(t1 - t0);
                torch.Tensor next;
                using (var scope = torch.NewDisposeScope())
                {
                    var dy = Step(run, y, t0, dt, t1);
                    next = (y + dy).MoveToOuterDisposeScope();
                }
                y.Dispose();
                y = next;
                if (!run.Reached(i, ref y)) break;
            }
            return run.Finish(y, run.CompletedSteps, 0);
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    /// <summary>Computes the increment of one step from <paramref name="t0"/> to <paramref name="t1"/>.
    /// Runs inside a dispose scope; temporaries need no explicit disposal.</summary>
    private protected abstract torch.Tensor Step(SolverRun run, torch.Tensor y0, double t0, double dt, double t1);
}
