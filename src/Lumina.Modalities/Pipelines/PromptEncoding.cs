using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>Caption features and their mask, owned: dispose when done.</summary>
public sealed class PromptEncoding : IDisposable
{
    /// <summary>Takes ownership of <paramref name="features"/> [B, L, D] and <paramref name="mask"/> [B, L] (1 = token).</summary>
    public PromptEncoding(Tensor features, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(mask);
        if (features.dim() != 3 || mask.dim() != 2 || mask.shape[0] != features.shape[0] || mask.shape[1] != features.shape[1])
            throw new ArgumentException(
                $"Caption features must be [B, L, D] with a [B, L] mask; got [{string.Join(", ", features.shape)}] and [{string.Join(", ", mask.shape)}].");
        Features = features;
        Mask = mask;
    }

    /// <summary>Features [B, L, D].</summary>
    public Tensor Features { get; }

    /// <summary>Mask [B, L]: 1 for tokens, 0 for padding.</summary>
    public Tensor Mask { get; }

    /// <summary>Number of texts.</summary>
    public long BatchSize => Features.shape[0];

    /// <inheritdoc />
    public void Dispose()
    {
        Features.Dispose();
        Mask.Dispose();
    }
}
