using TorchSharp;

namespace Lumina.Solvers;

/// <summary>Heun's method (torchdiffeq <c>heun2</c>): an Euler predictor, then the mean of the slopes at
/// both ends.</summary>
internal sealed class HeunSolver() : FixedGridSolver("heun2", order: 2, evaluationsPerStep: 2)
{
    private protected override torch.Tensor Step(SolverRun run, torch.Tensor y0, double t0, double dt, double t1)
    {
        var k1 = run.Velocity(y0, t0);
        // torchdiffeq evaluates the corrector at t0 + 1.0·dt (not t1) with y0 + dt·k1·1.0.
        var k2 = run.Velocity(y0 + k1 * dt, run.Round(t0 + dt));
        return (k1 * 0.5 + k2 * 0.5) * dt;
    }
}
