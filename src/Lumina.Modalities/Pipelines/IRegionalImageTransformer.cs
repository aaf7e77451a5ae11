using Lumina.Models.DiT;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// An image DiT that can run compositional generation: one caption per grid region for the cross-attention, a global
/// caption for adaLN (<see cref="NextDiT.ForwardCompositional"/>). Lumina-Next's <see cref="NextDiTTransformer"/> is one;
/// Flag-DiT (Lumina-T2I) is not.
/// </summary>
public interface IRegionalImageTransformer : IImageTransformer
{
    /// <summary>
    /// Guided velocity over the doubled batch: x [2B, C, h, w] (first half used for both halves), t [2B], region and
    /// global captions for [cond; uncond] (2B rows); returns the guided velocity [2B, C, h, w].
    /// </summary>
    Tensor GuidedRegionalVelocity(Tensor x, Tensor t, RegionalCaptions captions, double guidanceScale, TransformerCallOptions options);
}
