using TorchSharp;

namespace Lumina.Tensors;

/// <summary>A read-only set of named tensors stored on disk: one safetensors file or a sharded checkpoint.</summary>
public interface ITensorSource : IDisposable
{
    /// <summary>Where the tensors come from (a file or an index path), for messages.</summary>
    string SourcePath { get; }

    /// <summary>Every tensor entry.</summary>
    IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>Finds a tensor entry by name.</summary>
    bool TryGetInfo(string name, out SafetensorsTensorInfo info);

    /// <summary>
    /// Materializes one tensor as a new TorchSharp tensor, read straight from disk into its buffer.
    /// </summary>
    /// <param name="name">The tensor's key.</param>
    /// <param name="dtype">The element type wanted; null keeps the stored type.</param>
    /// <param name="device">The device wanted; null means the CPU.</param>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    /// <exception cref="TensorFileException">The stored dtype is unsupported, or the file changed underneath (<see cref="SafetensorsException"/>, <see cref="GgufException"/>).</exception>
    torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null);

    /// <summary>
    /// Reads one tensor into an existing tensor of the same shape, converting dtype and device as needed. A
    /// contiguous CPU destination of the stored dtype is filled straight from disk with no temporary at all;
    /// otherwise one temporary of the stored size is used and freed.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    /// <exception cref="ArgumentException">The destination's shape differs from the stored shape.</exception>
    /// <exception cref="TensorFileException">The stored dtype is unsupported, or the file changed underneath (<see cref="SafetensorsException"/>, <see cref="GgufException"/>).</exception>
    void ReadInto(string name, torch.Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var value = Read(name);
        if (!value.shape.SequenceEqual(destination.shape))
            throw new ArgumentException(
                $"Tensor '{name}' in '{SourcePath}' is [{string.Join(", ", value.shape)}] but the destination is [{string.Join(", ", destination.shape)}].", nameof(destination));
        using (torch.no_grad())
            destination.copy_(value);
    }
}
