using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// Integrates <c>dx/dt = v(x, t)</c> over a time grid. Knows nothing of models: anything that maps a state and
/// a time to a velocity can be solved, which is how the solvers are tested on ODEs with known solutions.
/// </summary>
public abstract class OdeSolver
{
    /// <summary>The torchdiffeq method name (<c>euler</c>, <c>midpoint</c>, <c>heun2</c>, <c>rk4</c>, <c>dopri5</c>).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Solves from <paramref name="x0"/> at <c>times[0]</c> through every time in <paramref name="times"/>
    /// (strictly increasing or strictly decreasing).
    /// </summary>
    /// <param name="velocity">The velocity field; called between cancellation checks.</param>
    /// <param name="x0">The initial state. Not modified and not owned by the solver.</param>
    /// <param name="times">The grid: N times give N−1 intervals.</param>
    /// <param name="options">Trajectory capture, per-step callback and progress.</param>
    /// <param name="cancellationToken">Checked before every velocity call; throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The final state, optionally the trajectory, and the call/step counts.</returns>
    public abstract OdeSolution Solve(VelocityFunction velocity, torch.Tensor x0, IReadOnlyList<double> times,
        SolveOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Creates the solver for a method.</summary>
    /// <param name="method">Which method.</param>
    /// <param name="adaptive">Tolerances and controller settings, used by <see cref="OdeMethod.Dopri5"/> only.</param>
    public static OdeSolver Create(OdeMethod method, AdaptiveStepOptions? adaptive = null) => method switch
    {
        OdeMethod.Euler => new EulerSolver(),
        OdeMethod.Midpoint => new MidpointSolver(),
        OdeMethod.Heun => new HeunSolver(),
        OdeMethod.Rk4 => new Rk4Solver(),
        OdeMethod.Dopri5 => new Dopri5Solver(adaptive),
        OdeMethod.DpmSolver => new DpmSolverPlusPlus(),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown ODE method; use one of Euler, Midpoint, Heun, Rk4, Dopri5, DpmSolver."),
    };

    /// <summary>Parses a torchdiffeq / upstream method name (<c>euler</c>, <c>midpoint</c>, <c>heun</c> or
    /// <c>heun2</c>, <c>rk4</c>, <c>dopri5</c>, and Lumina-Image 2.0's <c>dpm</c>, also spelled <c>dpm++</c> or
    /// <c>dpmsolver++</c>), case-insensitively.</summary>
    /// <param name="name">The method name.</param>
    public static OdeMethod ParseMethod(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "euler" => OdeMethod.Euler,
            "midpoint" => OdeMethod.Midpoint,
            "heun" or "heun2" => OdeMethod.Heun,
            "rk4" => OdeMethod.Rk4,
            "dopri5" => OdeMethod.Dopri5,
            "dpm" or "dpm++" or "dpmsolver++" or "dpm-solver++" => OdeMethod.DpmSolver,
            _ => throw new ArgumentException($"Unknown ODE method '{name}'; use euler, midpoint, heun2, rk4, dopri5 or dpm.", nameof(name)),
        };
    }
}
