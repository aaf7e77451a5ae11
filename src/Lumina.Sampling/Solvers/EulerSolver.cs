using TorchSharp;

namespace Lumina.Solvers;

/// <summary>Explicit Euler (torchdiffeq <c>euler</c>): <c>y₁ = y₀ + dt·v(y₀, t₀)</c>.</summary>
internal sealed class EulerSolver() : FixedGridSolver("euler", order: 1, evaluationsPerStep: 1)
{
    private protected override torch.Tensor Step(SolverRun run, torch.Tensor y0, double t0, double dt, double t1)
        => run.Velocity(y0, t0) * dt;
}
