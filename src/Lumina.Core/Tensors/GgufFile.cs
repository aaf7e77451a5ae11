using System.Buffers;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// A GGUF file (llama.cpp / ComfyUI-GGUF) opened for reading. The header is read and validated on open (see
/// <see cref="GgufHeader"/>); tensor data is read on demand with positional reads, one tensor at a time, so nothing but
/// the tensors you materialize counts towards resident memory. As an <see cref="ITensorSource"/> it presents each tensor
/// under its stored name with its torch shape (<c>reversed(ne)</c>, or <c>comfy.gguf.orig_shape.*</c>); F32, F16, BF16
/// and the integer types read as themselves, block-quantized types are dequantized to float32 exactly as gguf-py does.
/// <see cref="ReadRaw(string)"/> gives the stored blocks for keeping a model quantized. Safe to read from several
/// threads at once.
/// </summary>
public sealed class GgufFile : ITensorSource
{
    private const int InitialHeaderRead = 1 << 20;
    private const int ChunkBytes = 16 << 20;

    private readonly SafeFileHandle _handle;
    private readonly GgufHeader _header;
    private readonly List<SafetensorsTensorInfo> _views;
    private readonly Dictionary<string, SafetensorsTensorInfo> _viewByName;

    private GgufFile(string path, SafeFileHandle handle, GgufHeader header, long fileLength)
    {
        SourcePath = path;
        _handle = handle;
        _header = header;
        FileLength = fileLength;
        _views = header.Tensors.Select(t => new SafetensorsTensorInfo(t.Name, t.Type.ReadType(), t.Shape, t.Offset, t.Offset + t.ByteLength)).ToList();
        _viewByName = _views.ToDictionary(v => v.Name, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public string SourcePath { get; }

    /// <summary>The file's length in bytes when it was opened.</summary>
    public long FileLength { get; }

    /// <summary>The validated header: version, metadata, tensor infos, alignment.</summary>
    internal GgufHeader Header => _header;

    /// <summary>The metadata by key.</summary>
    internal IReadOnlyDictionary<string, GgufValue> Metadata => _header.Metadata;

    /// <summary><c>general.architecture</c> (for example <c>lumina2</c>), or null.</summary>
    public string? Architecture => _header.Architecture;

    /// <summary>The GGUF tensor infos (ggml type, <c>ne</c>, offset, stored bytes), in file order.</summary>
    internal IReadOnlyList<GgufTensorInfo> TensorInfos => _header.Tensors;

    /// <summary>
    /// Every tensor as a checkpoint entry: its name, the dtype <see cref="Read"/> returns (F32 for block types), its
    /// torch shape, and its stored byte range in the data section (for a block type, smaller than element count × 4).
    /// </summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _views;

    /// <summary>Opens and validates a GGUF file.</summary>
    /// <param name="path">The file to open.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufException">The file is not a valid GGUF file.</exception>
    public static GgufFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var length = RandomAccess.GetLength(handle);
            var read = (int)Math.Min(length, InitialHeaderRead);
            while (true)
            {
                var prefix = new byte[read];
                ReadExactly(handle, prefix, 0, path);
                try
                {
                    var header = GgufHeader.ParseCore(prefix, length, path);
                    return new GgufFile(path, handle, header, length);
                }
                catch (GgufHeader.IncompleteHeader incomplete)
                {
                    // Needed ≤ both the file length and GgufHeader.MaxHeaderLength (the parser checked), so this terminates.
                    read = (int)Math.Min(length, Math.Min(GgufHeader.MaxHeaderLength, Math.Max(incomplete.Needed, 2L * read)));
                }
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public bool TryGetInfo(string name, out SafetensorsTensorInfo info) => _viewByName.TryGetValue(name, out info!);

    /// <summary>The GGUF tensor info of a named tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    internal GgufTensorInfo GetTensorInfo(string name) =>
        _header.TryGet(name, out var info) ? info
            : throw new KeyNotFoundException($"'{SourcePath}' has no tensor named '{SafetensorsHeader.Shorten(name)}' (it holds {TensorInfos.Count} tensors).");

    /// <summary>Whether Lumina can read a tensor of this type (the plain types and <see cref="GgmlDequantizer.Supported"/>).</summary>
    public static bool CanRead(GgmlType type) => !type.IsQuantized() || GgmlDequantizer.IsSupported(type);

    /// <inheritdoc />
    /// <exception cref="GgufException">The tensor's type cannot be dequantized, or the file changed underneath.</exception>
    public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetTensorInfo(name);
        CheckReadable(info);
        return TensorFileReads.Materialize(info.ShapeArray(), info.Type.ReadType().ToScalarType(), stored => Fill(stored, info), dtype, device);
    }

    /// <inheritdoc />
    /// <exception cref="GgufException">The tensor's type cannot be dequantized, or the file changed underneath.</exception>
    public void ReadInto(string name, torch.Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetTensorInfo(name);
        TensorFileReads.CheckShape(name, SourcePath, info.Shape, destination);
        CheckReadable(info);
        if (info.Type.ReadType().ToScalarType() == destination.dtype && destination.device_type == DeviceType.CPU && destination.is_contiguous())
        {
            Fill(destination, info);
            return;
        }
        using var value = Read(name);
        using (torch.no_grad())
            destination.copy_(value);
    }

    /// <summary>
    /// Reads a tensor's stored bytes (its ggml blocks, exactly as in the file) into a new 1-D CPU byte tensor, for
    /// keeping weights quantized and decoding them later with <see cref="GgmlDequantizer.Dequantize(GgmlType, torch.Tensor, long[], torch.ScalarType, torch.Device?)"/>.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    /// <exception cref="GgufException">The file changed underneath.</exception>
    public unsafe torch.Tensor ReadRaw(string name)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetTensorInfo(name);
        return TensorFileReads.Materialize([info.ByteLength], torch.ScalarType.Byte, raw =>
        {
            if (info.ByteLength > 0)
                TensorFileReads.ReadBytes(_handle, TensorMemory.DataPointer(raw), _header.DataOffset + info.Offset, info.ByteLength, Truncated);
        }, null, null);
    }

    private void CheckReadable(GgufTensorInfo info)
    {
        if (!CanRead(info.Type))
            throw new GgufException(SourcePath,
                $"tensor '{SafetensorsHeader.Shorten(info.Name)}' has type {info.Type}, which Lumina cannot dequantize (supported: {string.Join(", ", GgmlDequantizer.Supported)}). Requantize the file, for example to Q8_0, Q4_K or Q6_K.");
    }

    /// <summary>Fills a contiguous CPU tensor of the read type straight from the file (decoding block types chunk by chunk).</summary>
    private unsafe void Fill(torch.Tensor target, GgufTensorInfo info)
    {
        if (info.ByteLength == 0)
            return;
        var basePtr = TensorMemory.DataPointer(target);
        var start = _header.DataOffset + info.Offset;
        if (!info.Type.IsQuantized())
        {
            TensorFileReads.ReadBytes(_handle, basePtr, start, info.ByteLength, Truncated);
            return;
        }
        int typeSize = info.Type.TypeSize(), blockSize = info.Type.BlockSize();
        var blocksPerChunk = Math.Max(1, ChunkBytes / typeSize);
        var buffer = ArrayPool<byte>.Shared.Rent(blocksPerChunk * typeSize);
        try
        {
            var blocks = info.ByteLength / typeSize;
            var output = (float*)basePtr;
            for (long b = 0; b < blocks; b += blocksPerChunk)
            {
                var count = (int)Math.Min(blocksPerChunk, blocks - b);
                var bytes = count * typeSize;
                TensorFileReads.ReadExactly(_handle, buffer.AsSpan(0, bytes), start + b * typeSize, Truncated);
                fixed (byte* chunk = buffer)
                    GgmlDequantizer.DequantizeInto(info.Type, chunk, bytes, output + b * blockSize);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path) =>
        TensorFileReads.ReadExactly(handle, buffer, offset, at => Truncated(path, at));

    private Exception Truncated(long at) => Truncated(SourcePath, at);

    private static GgufException Truncated(string path, long at) =>
        new(path, $"the file ended at byte {at}; it was truncated or changed while being read.");

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}
