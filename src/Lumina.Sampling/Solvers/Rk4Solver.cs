using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// Classical fourth-order Runge–Kutta in its 3/8-rule form, as torchdiffeq's <c>rk4</c> implements it:
/// stages at t₀, t₀+h/3, t₀+2h/3 and t₁; weights (1, 3, 3, 1)/8.
/// </summary>
internal sealed class Rk4Solver() : FixedGridSolver("rk4", order: 4, evaluationsPerStep: 4)
{
    private const float OneThird = 1f / 3f;
    private const float TwoThirds = 2f / 3f;

    private protected override torch.Tensor Step(SolverRun run, torch.Tensor y0, double t0, double dt, double t1)
    {
        double third = run.TimeIsDouble ? 1.0 / 3.0 : OneThird;
        double twoThirds = run.TimeIsDouble ? 2.0 / 3.0 : TwoThirds;
        var k1 = run.Velocity(y0, t0);
        var k2 = run.Velocity(y0 + k1 * dt * third, run.Round(t0 + run.Round(dt * third)));
        var k3 = run.Velocity(y0 + (k2 - k1 * third) * dt, run.Round(t0 + run.Round(dt * twoThirds)));
        var k4 = run.Velocity(y0 + (k1 - k2 + k3) * dt, t1);
        return (k1 + (k2 + k3) * 3.0 + k4) * dt * 0.125;
    }
}
