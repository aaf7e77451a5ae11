using TorchSharp;

namespace Lumina.Guidance;

/// <summary>Which rows of the conditioning a <see cref="GuidanceModel"/> call evaluates.</summary>
public enum GuidanceBatch
{
    /// <summary>Both halves: x and t hold 2B rows, the conditional rows first, then the unconditional (negative prompt) rows.</summary>
    Both = 0,

    /// <summary>The conditional half alone (B rows): a truncated step, or a run without guidance.</summary>
    ConditionalOnly = 1,
}

/// <summary>
/// The model as guidance sees it, family-agnostic: evaluates the velocity for <paramref name="x"/> at times
/// <paramref name="t"/> (one per row, in x's dtype) with the conditioning rows <paramref name="batch"/> names. The
/// conditioning itself (caption features and masks for [cond; uncond]) is captured by the delegate; for
/// <see cref="GuidanceBatch.ConditionalOnly"/> it uses the conditional rows only.
/// </summary>
/// <param name="x">Latents: [2B, …] for <see cref="GuidanceBatch.Both"/>, [B, …] for <see cref="GuidanceBatch.ConditionalOnly"/>.</param>
/// <param name="t">Flow times [rows of x].</param>
/// <param name="batch">Which conditioning rows x carries.</param>
/// <returns>The velocity, shaped like x.</returns>
public delegate torch.Tensor GuidanceModel(torch.Tensor x, torch.Tensor t, GuidanceBatch batch);
