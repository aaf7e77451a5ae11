using TorchSharp;

namespace Lumina.Solvers;

/// <summary>What the step callback sees after each grid interval, and how it asks the run to stop.</summary>
public sealed class SamplingStep
{
    internal SamplingStep(int index, int totalSteps, double time, torch.Tensor latents, int functionEvaluations)
    {
        Index = index;
        TotalSteps = totalSteps;
        Time = time;
        Latents = latents;
        FunctionEvaluations = functionEvaluations;
    }

    /// <summary>Zero-based index of the interval just completed.</summary>
    public int Index { get; }

    /// <summary>How many grid intervals the run has in total.</summary>
    public int TotalSteps { get; }

    /// <summary>The grid time the latents belong to.</summary>
    public double Time { get; }

    /// <summary>The current state. Borrowed: valid only during the callback; clone it to keep it.</summary>
    public torch.Tensor Latents { get; }

    /// <summary>Velocity (model) calls made so far.</summary>
    public int FunctionEvaluations { get; }

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
