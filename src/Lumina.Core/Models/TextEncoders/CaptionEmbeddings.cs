using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Caption features and their mask, ready for a Lumina DiT (<c>cap_feats</c>, <c>cap_mask</c> upstream).
/// </summary>
/// <param name="Features">Caption features <c>[batch, tokens, featureSize]</c> in the encoder's dtype.</param>
/// <param name="Mask">
/// <c>[batch, tokens]</c> int64, 1 for tokens the DiT should attend to and 0 for padding. Owned by this record.
/// </param>
public sealed record CaptionEmbeddings(Tensor Features, Tensor Mask) : IDisposable
{
    /// <summary>Number of captions in the batch.</summary>
    public long BatchSize => Features.shape[0];

    /// <summary>Number of (padded) caption tokens.</summary>
    public long TokenCount => Features.shape[1];

    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        Features.Dispose();
        Mask.Dispose();
    }
}
