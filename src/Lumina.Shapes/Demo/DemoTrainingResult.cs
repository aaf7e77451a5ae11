namespace Lumina.Training.Demo;

/// <summary>What <see cref="DemoModelTrainer.Train"/> did.</summary>
/// <param name="ModelFolder">The exported diffusers folder.</param>
/// <param name="Step">Steps trained in total.</param>
/// <param name="StepsThisRun">Steps trained by this call (the rest came from a resumed checkpoint).</param>
/// <param name="LastLoss">Loss of the last step of this call, or null when no step ran.</param>
/// <param name="Seconds">Wall time of this call's training steps.</param>
public sealed record DemoTrainingResult(string ModelFolder, long Step, long StepsThisRun, double? LastLoss, double Seconds);
