namespace Lumina.Training;

/// <summary>The outcome of one optimisation step.</summary>
/// <param name="Step">Steps completed after this one.</param>
/// <param name="Loss">The loss of the step (before the update).</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
public sealed record TrainingStepResult(long Step, double Loss, double GradNorm);
