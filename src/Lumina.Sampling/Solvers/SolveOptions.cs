namespace Lumina.Solvers;

/// <summary>Per-run options shared by every solver: trajectory capture, callback and progress.</summary>
public sealed record SolveOptions
{
    /// <summary>Keep the state at every grid time and return it as <see cref="OdeSolution.Trajectory"/>.
    /// Costs one state-sized tensor per grid point; off by default.</summary>
    public bool KeepTrajectory { get; init; }

    /// <summary>
    /// diffusers' <c>callback_on_step_end</c>: called after each grid interval with the current latents (borrowed); return
    /// new latents of the same shape to continue from them (the solver copies them), or null to keep the state; call
    /// <see cref="SamplingStep.Stop"/> to end the run early. Runs before the trajectory records the point and before the
    /// progress report. Adaptive solvers (dopri5) cannot continue from replaced latents and throw
    /// <see cref="NotSupportedException"/> if a replacement is returned.
    /// </summary>
    public SamplingStepCallback? StepCallback { get; init; }

    /// <summary>Receives a <see cref="SamplingProgress"/> after each grid interval.</summary>
    public IProgress<SamplingProgress>? Progress { get; init; }
}
