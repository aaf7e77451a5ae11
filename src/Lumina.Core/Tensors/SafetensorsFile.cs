using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// A safetensors file opened for reading. The header is read and validated on open; tensor data is read on
/// demand, one tensor at a time, straight from the file into the new tensor's own buffer (positional reads, no
/// memory mapping, so nothing but the tensors you materialize counts towards resident memory). Safe to read
/// from several threads at once.
/// </summary>
public sealed class SafetensorsFile : ITensorSource
{
    private const int ChunkBytes = 64 << 20;
    private readonly SafeFileHandle _handle;
    private readonly SafetensorsHeader _header;
    private readonly long _dataStart;
    private readonly object _scratchLock = new();
    private torch.Tensor? _scratch;

    private SafetensorsFile(string path, SafeFileHandle handle, SafetensorsHeader header, long dataStart, long fileLength)
    {
        SourcePath = path;
        _handle = handle;
        _header = header;
        _dataStart = dataStart;
        FileLength = fileLength;
    }

    /// <inheritdoc />
    public string SourcePath { get; }

    /// <summary>The file's length in bytes when it was opened.</summary>
    public long FileLength { get; }

    /// <summary>The validated header.</summary>
    internal SafetensorsHeader Header => _header;

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _header.Tensors;

    /// <summary>The file's <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <param name="path">The file to open.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SafetensorsException">The file is not a valid safetensors file.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Opening a named pipe blocks until a writer appears, and a device never ends: refuse both before opening.
        if (Lumina.IO.FileKinds.Of(path) is var kind && kind is not (Lumina.IO.FileKind.RegularFile or Lumina.IO.FileKind.Missing))
            throw new SafetensorsException(path, $"it is {Lumina.IO.FileKinds.Describe(kind)}, not a regular file.");
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var length = RandomAccess.GetLength(handle);
            if (length < 8)
                throw new SafetensorsException(path, $"the file is {length} bytes long, too short for the 8-byte header length.");
            Span<byte> prefix = stackalloc byte[8];
            ReadExactly(handle, prefix, 0, path);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > SafetensorsHeader.MaxHeaderLength)
                throw new SafetensorsException(path, $"the header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderLength}-byte limit.");
            if ((long)headerLength > length - 8)
                throw new SafetensorsException(path, $"the header length {headerLength} runs past the end of the {length}-byte file.");
            var headerBytes = new byte[headerLength];
            ReadExactly(handle, headerBytes, 8, path);
            var dataStart = 8 + (long)headerLength;
            var header = SafetensorsHeader.Parse(headerBytes, length - dataStart, path);
            return new SafetensorsFile(path, handle, header, dataStart, length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public bool TryGetInfo(string name, out SafetensorsTensorInfo info) => _header.TryGet(name, out info);

    /// <summary>The entry of a named tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafetensorsTensorInfo GetInfo(string name) =>
        _header.TryGet(name, out var info) ? info
            : throw new KeyNotFoundException($"'{SourcePath}' has no tensor named '{name}' (it holds {Tensors.Count} tensors).");

    /// <inheritdoc />
    public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetInfo(name);
        if (!info.DType.IsSupported())
            throw new SafetensorsException(SourcePath,
                $"tensor '{SafetensorsHeader.Shorten(name)}' has dtype {info.DType}, which Lumina does not support (supported: {string.Join(", ", SafetensorsDTypes.Supported)}). Convert the checkpoint first.");

        return TensorFileReads.Materialize(info.ShapeArray(), info.DType.ToScalarType(), stored =>
        {
            if (info.ByteLength > 0)
                ReadInto(stored, info);
            if (info.DType == SafetensorsDType.BOOL)
                CheckBooleans(stored, info);
        }, dtype, device);
    }

    /// <inheritdoc />
    public void ReadInto(string name, torch.Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetInfo(name);
        TensorFileReads.CheckShape(name, SourcePath, info.Shape, destination);
        if (info.DType.IsSupported() && info.DType.ToScalarType() == destination.dtype && info.DType != SafetensorsDType.BOOL
            && destination.device_type == DeviceType.CPU && destination.is_contiguous())
        {
            if (info.ByteLength > 0)
                ReadInto(destination, info);
            return;
        }
        if (!info.DType.IsSupported() || info.DType == SafetensorsDType.BOOL)
        {
            using var stored = Read(name);
            using (torch.no_grad())
                destination.copy_(stored);
            return;
        }
        // Convert through a scratch buffer that is reused from tensor to tensor, so a whole-model load in another
        // dtype allocates (and page-faults) one tensor's worth of memory, not every tensor's.
        lock (_scratchLock)
        {
            var elements = info.ElementCount;
            if (_scratch is null || _scratch.dtype != info.DType.ToScalarType() || _scratch.numel() < elements)
            {
                _scratch?.Dispose();
                _scratch = torch.empty(elements, info.DType.ToScalarType(), torch.CPU);
            }
            using var view = _scratch.narrow(0, 0, elements).view(info.ShapeArray());
            if (info.ByteLength > 0)
                ReadInto(view, info);
            using (torch.no_grad())
                destination.copy_(view);
        }
    }

    /// <summary>Reads a tensor's raw little-endian bytes, exactly as stored.</summary>
    public byte[] ReadBytes(string name)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetInfo(name);
        var bytes = new byte[info.ByteLength];
        ReadExactly(_handle, bytes, _dataStart + info.Begin, SourcePath);
        return bytes;
    }

    private unsafe void ReadInto(torch.Tensor target, SafetensorsTensorInfo info) =>
        TensorFileReads.ReadBytes(_handle, TensorMemory.DataPointer(target), _dataStart + info.Begin, info.ByteLength, Truncated);

    private unsafe void CheckBooleans(torch.Tensor tensor, SafetensorsTensorInfo info)
    {
        var basePtr = TensorMemory.DataPointer(tensor);
        for (long done = 0; done < info.ByteLength; done += ChunkBytes)
        {
            var span = new ReadOnlySpan<byte>(basePtr + done, (int)Math.Min(ChunkBytes, info.ByteLength - done));
            if (span.IndexOfAnyExcept((byte)0, (byte)1) < 0)
                continue;
            throw new SafetensorsException(SourcePath, $"BOOL tensor '{SafetensorsHeader.Shorten(info.Name)}' holds bytes other than 0 and 1.");
        }
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path) =>
        TensorFileReads.ReadExactly(handle, buffer, offset, at => Truncated(path, at));

    private Exception Truncated(long at) => Truncated(SourcePath, at);

    private static SafetensorsException Truncated(string path, long at) =>
        new(path, $"the file ended at byte {at}; it was truncated or changed while being read.");

    /// <inheritdoc />
    public void Dispose()
    {
        _handle.Dispose();
        lock (_scratchLock)
        {
            _scratch?.Dispose();
            _scratch = null;
        }
    }
}
