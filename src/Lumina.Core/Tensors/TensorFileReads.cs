using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>The positional-read and materialize steps that every tensor file reader shares.</summary>
internal static class TensorFileReads
{
    private const int ChunkBytes = 64 << 20;

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; <paramref name="truncated"/> builds the exception when the file ends early.</summary>
    public static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, Func<long, Exception> truncated)
    {
        while (buffer.Length > 0)
        {
            var read = RandomAccess.Read(handle, buffer, offset);
            if (read <= 0)
                throw truncated(offset);
            buffer = buffer[read..];
            offset += read;
        }
    }

    /// <summary>Reads <paramref name="length"/> bytes (any size) straight into native memory, in chunks a span can describe.</summary>
    public static unsafe void ReadBytes(SafeFileHandle handle, byte* target, long offset, long length, Func<long, Exception> truncated)
    {
        for (long done = 0; done < length; done += ChunkBytes)
            ReadExactly(handle, new Span<byte>(target + done, (int)Math.Min(ChunkBytes, length - done)), offset + done, truncated);
    }

    /// <summary>
    /// Creates a CPU tensor of the stored type and shape, lets <paramref name="fill"/> write it (disposing it if that
    /// fails), then converts it to the wanted dtype and device (returning it as is when nothing changes).
    /// </summary>
    public static torch.Tensor Materialize(long[] shape, torch.ScalarType stored, Action<torch.Tensor> fill, torch.ScalarType? dtype, torch.Device? device)
    {
        var tensor = torch.empty(shape, stored, torch.CPU);
        try
        {
            fill(tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        var wantType = dtype ?? stored;
        var wantDevice = device ?? torch.CPU;
        if (wantType == stored && wantDevice.type == DeviceType.CPU)
            return tensor;
        using (tensor)
            return tensor.to(wantType, wantDevice);
    }

    /// <summary>Rejects a destination whose shape differs from the stored one.</summary>
    public static void CheckShape(string name, string source, IReadOnlyList<long> shape, torch.Tensor destination)
    {
        if (!shape.SequenceEqual(destination.shape))
            throw new ArgumentException(
                $"Tensor '{name}' in '{source}' is [{string.Join(", ", shape)}] but the destination is [{string.Join(", ", destination.shape)}].", nameof(destination));
    }
}
