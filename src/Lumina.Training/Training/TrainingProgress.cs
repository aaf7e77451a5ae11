namespace Lumina.Training;

/// <summary>Reported after every training step.</summary>
/// <param name="Step">Steps completed (including those before a resume).</param>
/// <param name="TargetStep">The step the run stops at.</param>
/// <param name="Loss">This step's flow-matching loss.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="StepsPerSecond">Throughput of this run so far (it/s).</param>
public sealed record TrainingProgress(long Step, long TargetStep, double Loss, double GradNorm, double StepsPerSecond);
