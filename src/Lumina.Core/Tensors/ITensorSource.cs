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
    /// <exception cref="SafetensorsException">The stored dtype is unsupported, or the file changed underneath.</exception>
    torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null);
}
