using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>Encoded captions: features [B, L, D] and mask [B, L] (1 = token, 0 = padding).</summary>
/// <param name="Features">Caption features [B, L, D].</param>
/// <param name="Mask">Caption mask [B, L].</param>
public sealed record CaptionFeatures(Tensor Features, Tensor Mask) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Features.Dispose();
        Mask.Dispose();
    }
}
