using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// The velocity field of a flow-matching ODE: <c>dx/dt = v(x, t)</c>, with t = 0 noise and t = 1 data.
/// </summary>
/// <param name="x">The current state (latents). The function must not dispose or modify it.</param>
/// <param name="t">The time at which to evaluate, already rounded to the state's precision.</param>
/// <returns>A new tensor with the shape of <paramref name="x"/>. The solver owns it and disposes it.</returns>
public delegate torch.Tensor VelocityFunction(torch.Tensor x, double t);
