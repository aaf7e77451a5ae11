using Lumina.Models.TextEncoders;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// A text-conditioned image DiT as the sampler sees it: a guided velocity over the doubled batch [cond; uncond].
/// One implementation per family (<see cref="NextDiTTransformer"/> for Lumina-Next).
/// </summary>
public interface IImageTransformer : IDisposable
{
    /// <summary>Latent channels the model denoises (4 for the SDXL VAE).</summary>
    int LatentChannels { get; }

    /// <summary>Patch size p: latent sides must be multiples of it.</summary>
    int PatchSize { get; }

    /// <summary>Caption feature width the model expects.</summary>
    int CaptionDim { get; }

    /// <summary>
    /// Upstream <c>forward_with_cfg</c>: x [2B, C, h, w] (first half used for both halves), t [2B], captions
    /// [cond; uncond]; returns the guided velocity [2B, C, h, w].
    /// </summary>
    Tensor GuidedVelocity(Tensor x, Tensor t, CaptionEmbeddings captions, double guidanceScale, TransformerCallOptions options);
}

/// <summary>Per-call knobs of an image transformer (resolution extrapolation and attention scale).</summary>
/// <param name="ScaleFactor">Time-aware RoPE scale factor; null = the model's default table.</param>
/// <param name="ScaleWatershed">Switch point of the time-aware scaling.</param>
/// <param name="ProportionalAttention">Scale attention by log of the token count relative to the training resolution.</param>
public sealed record TransformerCallOptions(double? ScaleFactor, double ScaleWatershed, bool ProportionalAttention)
{
    /// <summary>
    /// Step caching for this call (see <see cref="StepCache"/>): a transformer that supports it consults the cache
    /// before its blocks; one that does not ignores it and evaluates. Null = no caching.
    /// </summary>
    public Lumina.Models.DiT.IBlockStackCache? BlockCache { get; init; }
}
