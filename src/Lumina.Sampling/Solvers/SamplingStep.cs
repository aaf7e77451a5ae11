using TorchSharp;

namespace Lumina.Solvers;

/// <summary>What a per-step callback sees after each grid interval.</summary>
/// <param name="Index">Zero-based index of the interval just completed.</param>
/// <param name="TotalSteps">How many grid intervals the run has in total.</param>
/// <param name="Time">The grid time the latents belong to.</param>
/// <param name="Latents">The current state. Borrowed: valid only during the callback; clone it to keep it.</param>
/// <param name="FunctionEvaluations">Velocity (model) calls made so far.</param>
public readonly record struct SamplingStep(int Index, int TotalSteps, double Time, torch.Tensor Latents, int FunctionEvaluations);

/// <summary>Called after each grid interval. Return <see langword="false"/> to stop the run early.</summary>
/// <param name="step">The step that was just completed.</param>
/// <returns><see langword="true"/> to continue, <see langword="false"/> to stop with the latents reached so far.</returns>
public delegate bool SamplingStepCallback(SamplingStep step);

/// <summary>
/// Called after each grid interval (diffusers' <c>callback_on_step_end</c>). Return <see langword="null"/> to keep the
/// latents, or a tensor shaped like <see cref="SamplingStep.Latents"/> to replace them; the solver copies it, so the
/// caller keeps ownership of what it returns.
/// </summary>
/// <param name="step">The step just completed; its latents are borrowed.</param>
public delegate torch.Tensor? SamplingStepEndCallback(SamplingStep step);
