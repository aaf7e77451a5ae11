namespace Lumina.Schedulers;

/// <summary>
/// Whose time-grid arithmetic a run follows (<see cref="TimeGrid.ForSolver"/>). Both describe the same shifted grid;
/// they differ in float rounding and in how the model's time is spelled.
/// </summary>
public enum TimeSchedule
{
    /// <summary>
    /// Upstream Lumina (<c>transport.sample_ode</c>): flow times <c>linspace(0, 1, steps + 1)</c> shifted by
    /// <c>t/(t + s − s·t)</c> in float32, the model called at t (0 = noise, 1 = data) and its velocity integrated as is;
    /// DPM-Solver++ on its own <c>time_uniform_flow</c> grid.
    /// </summary>
    Upstream = 0,

    /// <summary>
    /// diffusers (<c>Lumina2Pipeline</c> with <c>FlowMatchEulerDiscreteScheduler</c>): σ = <c>linspace(1, 1/N, N)</c> in
    /// float64, shifted by <c>sσ/(1 + (s − 1)σ)</c>, cast to float32, then a final 0. The pipeline passes the transformer
    /// the timestep 1 − σ and negates its output for the scheduler, whose step <c>x + (σ′ − σ)·(−v)</c> is the flow-time
    /// Euler step <c>x + (t′ − t)·v</c>; so the run is an Euler solve over t = 1 − σ with the model's velocity as is.
    /// </summary>
    DiffusersFlowMatch = 1,
}
