namespace Lumina.Solvers;

/// <summary>Per-run options shared by every solver: trajectory capture, callback and progress.</summary>
public sealed record SolveOptions
{
    /// <summary>Keep the state at every grid time and return it as <see cref="OdeSolution.Trajectory"/>.
    /// Costs one state-sized tensor per grid point; off by default.</summary>
    public bool KeepTrajectory { get; init; }

    /// <summary>Called after each grid interval with the current latents; may stop the run.</summary>
    public SamplingStepCallback? StepCallback { get; init; }

    /// <summary>Receives a <see cref="SamplingProgress"/> after each grid interval.</summary>
    public IProgress<SamplingProgress>? Progress { get; init; }
}
