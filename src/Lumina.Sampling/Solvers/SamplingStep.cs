using TorchSharp;

namespace Lumina.Solvers;

/// <summary>What the step callback sees after each grid interval, and how it asks the run to stop.</summary>
/// <param name="Index">Zero-based index of the interval just completed.</param>
/// <param name="TotalSteps">How many grid intervals the run has in total.</param>
/// <param name="Time">The grid time the latents belong to.</param>
/// <param name="Latents">The current state. Borrowed: valid only during the callback; clone it to keep it.</param>
/// <param name="FunctionEvaluations">Velocity (model) calls made so far.</param>
public sealed record SamplingStep(int Index, int TotalSteps, double Time, torch.Tensor Latents, int FunctionEvaluations)
{
    /// <summary>Stops the run after this step: the solution holds the latents reached so far (after any replacement the
    /// callback returns) and reports <see cref="OdeSolution.StoppedEarly"/>.</summary>
    public void Stop() => StopRequested = true;

    internal bool StopRequested { get; private set; }
}

/// <summary>
/// Called after each grid interval (diffusers' <c>callback_on_step_end</c>). Return <see langword="null"/> to keep the
/// latents, or a tensor shaped like <see cref="SamplingStep.Latents"/> to replace them (the solver copies it, so the
/// caller keeps ownership of what it returns). Call <see cref="SamplingStep.Stop"/> to end the run early.
/// </summary>
/// <param name="step">The step just completed; its latents are borrowed.</param>
/// <returns>Replacement latents, or <see langword="null"/> to continue from the current ones.</returns>
public delegate torch.Tensor? SamplingStepCallback(SamplingStep step);
