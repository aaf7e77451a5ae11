using System.Buffers.Binary;
using System.Text;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>One tensor for <see cref="GgufWriter"/>.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Type">The ggml type to store it as.</param>
/// <param name="Shape">Its torch shape (stored as <c>ne</c> = the reverse).</param>
/// <param name="Data">Produces its data when it is written (then disposed): for a plain type a tensor of that type and
/// shape; for a block type a 1-D byte tensor holding exactly its blocks (as <see cref="GgufFile.ReadRaw(string)"/> returns).</param>
internal sealed record GgufWriterTensor(string Name, GgmlType Type, IReadOnlyList<long> Shape, Func<torch.Tensor> Data);

/// <summary>
/// Writes GGUF version 3 files: metadata, tensor infos, then each tensor's data padded to the alignment, laid out as
/// gguf-py's <c>GGUFWriter</c> lays them out. Written to a temporary name beside the target and renamed into place only
/// when complete.
/// </summary>
internal static class GgufWriter
{
    /// <summary>Writes a GGUF file.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="metadata">Key/values in order (<c>general.architecture</c> first, by convention).</param>
    /// <param name="tensors">The tensors, in order.</param>
    /// <param name="alignment">The data alignment (a power of two); when not 32 it is also stored as <c>general.alignment</c>.</param>
    /// <param name="cancellationToken">Checked between tensors.</param>
    /// <exception cref="ArgumentException">A name repeats, a row is not whole blocks, or a tensor's data does not match its type and shape.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, GgufValue>> metadata, IEnumerable<GgufWriterTensor> tensors,
        int alignment = GgufHeader.DefaultAlignment, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(tensors);
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "The alignment must be a power of two.");
        var kvs = metadata.ToList();
        if (alignment != GgufHeader.DefaultAlignment && kvs.All(kv => kv.Key != GgufHeader.AlignmentKey))
            kvs.Add(new(GgufHeader.AlignmentKey, GgufValue.UInt32((uint)alignment)));
        if (kvs.Select(kv => kv.Key).Distinct(StringComparer.Ordinal).Count() != kvs.Count)
            throw new ArgumentException("A metadata key appears more than once.", nameof(metadata));
        var list = tensors.ToList();
        if (list.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count() != list.Count)
            throw new ArgumentException("A tensor name appears more than once.", nameof(tensors));

        var sizes = new long[list.Count];
        using var header = new MemoryStream();
        var w = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true);
        w.Write(0x46554747u);
        w.Write(3u);
        w.Write((ulong)list.Count);
        w.Write((ulong)kvs.Count);
        foreach (var (key, value) in kvs)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        long offset = 0;
        for (var i = 0; i < list.Count; i++)
        {
            var t = list[i];
            long elements = 1;
            foreach (var d in t.Shape)
                elements = checked(elements * d);
            var row = t.Shape.Count == 0 ? 1 : t.Shape[^1];
            if (row % t.Type.BlockSize() != 0)
                throw new ArgumentException($"Tensor '{t.Name}' has rows of {row}, not whole {t.Type} blocks of {t.Type.BlockSize()}.", nameof(tensors));
            sizes[i] = elements / t.Type.BlockSize() * t.Type.TypeSize();
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Count);
            for (var d = t.Shape.Count - 1; d >= 0; d--)
                w.Write((ulong)t.Shape[d]);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset += Pad(sizes[i], alignment);
        }
        w.Flush();

        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                header.Position = 0;
                header.CopyTo(stream);
                WriteZeros(stream, Pad(header.Length, alignment) - header.Length);
                for (var i = 0; i < list.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    WriteData(stream, list[i], sizes[i]);
                    WriteZeros(stream, Pad(sizes[i], alignment) - sizes[i]);
                }
                stream.Flush(flushToDisk: false);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static long Pad(long n, int alignment) => (n + alignment - 1) / alignment * alignment;

    private static void WriteZeros(Stream stream, long count)
    {
        Span<byte> zeros = stackalloc byte[64];
        zeros.Clear();
        while (count > 0)
        {
            var n = (int)Math.Min(64, count);
            stream.Write(zeros[..n]);
            count -= n;
        }
    }

    private static unsafe void WriteData(Stream stream, GgufWriterTensor t, long size)
    {
        using var scope = torch.NewDisposeScope();
        var data = t.Data() ?? throw new ArgumentException($"Tensor '{t.Name}' produced no data.");
        if (data.device_type != DeviceType.CPU)
            data = data.cpu();
        if (!data.is_contiguous())
            data = data.contiguous();
        var expected = t.Type.IsQuantized() ? torch.ScalarType.Byte : t.Type.ReadType().ToScalarType();
        if (data.dtype != expected || TensorMemory.ByteLength(data) != size)
            throw new ArgumentException($"Tensor '{t.Name}' ({t.Type}) needs {size} bytes of {expected} data, but got {TensorMemory.ByteLength(data)} bytes of {data.dtype}.");
        if (size == 0)
            return;
        var basePtr = TensorMemory.DataPointer(data);
        for (long done = 0; done < size; done += 1 << 26)
            stream.Write(new ReadOnlySpan<byte>(basePtr + done, (int)Math.Min(1 << 26, size - done)));
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        switch (value.Value)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write((byte)(v ? 1 : 0)); break;
            case string v: WriteString(w, v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            case Array a:
                w.Write((uint)value.ElementType!.Value);
                w.Write((ulong)a.Length);
                foreach (var item in value.Items)
                    WriteValue(w, item);
                break;
            default: throw new ArgumentException($"Cannot write a GGUF {value.Type} holding {value.Value.GetType().Name}.");
        }
    }
}
