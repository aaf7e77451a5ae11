using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// Writes safetensors files. The file is written to a temporary name beside the target and renamed into place
/// only when complete, so a failure (a full disk, a cancelled call) never leaves a half-written file.
/// </summary>
public static class SafetensorsWriter
{
    private const int ChunkBytes = 64 << 20;

    /// <summary>Writes tensors, in the given order, with optional <c>__metadata__</c> strings.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Named tensors on any device; non-contiguous tensors are copied first.</param>
    /// <param name="metadata">Free-form string metadata, or null.</param>
    /// <param name="cancellationToken">Checked between tensors.</param>
    /// <exception cref="ArgumentException">A name is empty, repeated, or reserved.</exception>
    /// <exception cref="NotSupportedException">A tensor's type cannot be stored.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in list)
        {
            if (string.IsNullOrEmpty(name))
                throw new ArgumentException("Tensor names must not be empty.", nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved for metadata and cannot name a tensor.", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"The tensor name '{name}' appears more than once.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, $"tensor '{name}'");
        }

        var header = BuildHeader(list, metadata);
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (var (_, tensor) in list)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    WriteData(stream, tensor);
                }
                stream.Flush(flushToDisk: false);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static byte[] BuildHeader(List<KeyValuePair<string, torch.Tensor>> list, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in list)
            {
                var dtype = SafetensorsDTypes.FromScalarType(tensor.dtype);
                var bytes = tensor.numel() * dtype.ElementSize();
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var d in tensor.shape)
                    json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // Pad with spaces to a multiple of 8 so the data section is aligned, as the reference writer does.
        var length = (int)buffer.Length;
        var padded = (length + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.GetBuffer().AsSpan(0, length).CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }

    private static unsafe void WriteData(Stream stream, torch.Tensor tensor)
    {
        using var scope = torch.NewDisposeScope();
        var cpu = tensor.detach();
        if (cpu.device_type != DeviceType.CPU)
            cpu = cpu.cpu();
        if (!cpu.is_contiguous())
            cpu = cpu.contiguous();
        var total = TensorMemory.ByteLength(cpu);
        if (total == 0)
            return;
        var basePtr = TensorMemory.DataPointer(cpu);
        for (long done = 0; done < total; done += ChunkBytes)
            stream.Write(new ReadOnlySpan<byte>(basePtr + done, (int)Math.Min(ChunkBytes, total - done)));
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
