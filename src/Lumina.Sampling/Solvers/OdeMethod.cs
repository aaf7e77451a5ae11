namespace Lumina.Solvers;

/// <summary>The ODE methods, with torchdiffeq's update rules.</summary>
public enum OdeMethod
{
    /// <summary>Explicit Euler: one velocity call per step (order 1).</summary>
    Euler,

    /// <summary>Explicit midpoint: two calls per step (order 2). Upstream Lumina-Next's default.</summary>
    Midpoint,

    /// <summary>Heun's method (torchdiffeq <c>heun2</c>): two calls per step (order 2).</summary>
    Heun,

    /// <summary>Runge–Kutta 4 with the 3/8 rule (torchdiffeq <c>rk4</c>): four calls per step (order 4).</summary>
    Rk4,

    /// <summary>Adaptive Dormand–Prince 5(4) with torchdiffeq's step-size controller.</summary>
    Dopri5,

    /// <summary>Multistep DPM-Solver++ of order 2 (<see cref="DpmSolverPlusPlus"/>; Lumina-Image 2.0's <c>--solver dpm</c>):
    /// one call per step, on its own grid (<see cref="Schedulers.TimeGrid.DpmSolverFlow"/>).</summary>
    DpmSolver,
}
