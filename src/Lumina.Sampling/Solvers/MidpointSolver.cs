using TorchSharp;

namespace Lumina.Solvers;

/// <summary>Explicit midpoint (torchdiffeq <c>midpoint</c>): evaluate at the half step, then take the full
/// step with that slope.</summary>
internal sealed class MidpointSolver() : FixedGridSolver("midpoint", order: 2, evaluationsPerStep: 2)
{
    private protected override torch.Tensor Step(SolverRun run, torch.Tensor y0, double t0, double dt, double t1)
    {
        var halfDt = run.Round(0.5 * dt);
        var k1 = run.Velocity(y0, t0);
        var yMid = y0 + k1 * halfDt;
        return run.Velocity(yMid, run.Round(t0 + halfDt)) * dt;
    }
}
