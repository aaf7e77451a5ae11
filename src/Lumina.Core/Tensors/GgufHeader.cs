using System.Buffers.Binary;
using System.Text;

namespace Lumina.Tensors;

/// <summary>
/// A parsed and fully validated GGUF header (versions 2 and 3, little-endian): the metadata key/values in file order,
/// the tensor infos, the alignment and where the data section starts. Every count, string length, array length,
/// dimension and offset is checked against the bytes that remain before it is used, with overflow-safe arithmetic:
/// keys and tensor names must be valid UTF-8 and unique, value and tensor types must be known, block-quantized rows
/// must hold whole blocks, <c>general.alignment</c> must be a UINT32 power of two, every tensor must start at a
/// multiple of the alignment, lie inside the file and not overlap another.
/// </summary>
internal sealed class GgufHeader
{
    /// <summary>The largest header Lumina reads (256 MiB, far above the metadata of any real model).</summary>
    public const long MaxHeaderLength = 256L << 20;

    /// <summary>The alignment of the data section when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>The metadata key that sets the alignment.</summary>
    public const string AlignmentKey = "general.alignment";

    /// <summary>The metadata key that names the architecture (for example <c>lumina2</c>).</summary>
    public const string ArchitectureKey = "general.architecture";

    /// <summary>The prefix of ComfyUI-GGUF's per-tensor torch shapes (an INT32 array, torch order).</summary>
    public const string OriginalShapePrefix = "comfy.gguf.orig_shape.";

    private const uint Magic = 0x46554747; // "GGUF" little-endian
    private const int MaxDimensions = 4;
    private const int MaxArrayDepth = 4;

    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufHeader(uint version, List<KeyValuePair<string, GgufValue>> metadata, List<GgufTensorInfo> tensors,
        int alignment, long dataOffset, long headerLength)
    {
        Version = version;
        MetadataEntries = metadata;
        _metadata = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Alignment = alignment;
        DataOffset = dataOffset;
        HeaderLength = headerLength;
    }

    /// <summary>The format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>The metadata, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataEntries { get; }

    /// <summary>The metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;

    /// <summary>The tensor infos, in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>The data alignment (<c>general.alignment</c>, or 32).</summary>
    public int Alignment { get; }

    /// <summary>Where the data section starts in the file: the first multiple of <see cref="Alignment"/> after the tensor infos.</summary>
    public long DataOffset { get; }

    /// <summary>The bytes of the header proper (magic through the last tensor info, before the padding).</summary>
    public long HeaderLength { get; }

    /// <summary><c>general.architecture</c>, or null when absent or not a string.</summary>
    public string? Architecture => _metadata.TryGetValue(ArchitectureKey, out var v) ? v.AsString() : null;

    /// <summary>Looks a tensor up by its stored name.</summary>
    public bool TryGet(string name, out GgufTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>
    /// Parses and validates a GGUF header from the first bytes of a file of <paramref name="fileLength"/> bytes.
    /// </summary>
    /// <param name="prefix">The file's first bytes: the whole file, or at least the whole header.</param>
    /// <param name="fileLength">The length of the whole file (at least <paramref name="prefix"/>'s length).</param>
    /// <param name="source">The file name used in error messages.</param>
    /// <exception cref="GgufException">The header is invalid in any way, or runs past <paramref name="prefix"/>.</exception>
    public static GgufHeader Parse(ReadOnlySpan<byte> prefix, long fileLength, string source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fileLength, prefix.Length);
        try
        {
            return ParseCore(prefix, fileLength, source);
        }
        catch (IncompleteHeader incomplete)
        {
            throw new GgufException(source, $"the header needs at least {incomplete.Needed} bytes but only the first {prefix.Length} were given.");
        }
    }

    /// <summary>Parses a header; throws <see cref="IncompleteHeader"/> when <paramref name="prefix"/> is shorter than the header.</summary>
    internal static GgufHeader ParseCore(ReadOnlySpan<byte> prefix, long fileLength, string source)
    {
        var reader = new Reader(prefix, fileLength, source);
        if (fileLength < 4 + 4 + 8 + 8)
            throw new GgufException(source, $"the file is {fileLength} bytes long, too short for a GGUF header (24 bytes).");
        var magic = reader.U32();
        if (magic != Magic)
            throw new GgufException(source, $"it does not start with the GGUF magic (found 0x{magic:X8}); it is not a GGUF file.");
        var version = reader.U32();
        if (version is not (2 or 3))
            throw new GgufException(source, $"GGUF version {version} is not supported (Lumina reads versions 2 and 3).");
        var tensorCount = reader.U64();
        var kvCount = reader.U64();

        // Every KV needs at least a key length, a type and one byte of value; every tensor info a name length, n_dims,
        // a type and an offset. Counts that cannot fit in the file are rejected before anything is allocated.
        const long minKv = 8 + 4 + 1, minTensor = 8 + 4 + 4 + 8;
        if (kvCount > (ulong)(reader.Remaining / minKv))
            throw new GgufException(source, $"the header claims {kvCount} metadata entries, more than the {reader.Remaining} remaining bytes can hold.");
        if (tensorCount > (ulong)(reader.Remaining / minTensor))
            throw new GgufException(source, $"the header claims {tensorCount} tensors, more than the {reader.Remaining} remaining bytes can hold.");

        var metadata = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(kvCount, 4096));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = reader.String("a metadata key");
            if (!keys.Add(key))
                throw new GgufException(source, $"the metadata key '{SafetensorsHeader.Shorten(key)}' appears more than once.");
            var type = reader.ValueType(key);
            var value = ReadValue(ref reader, type, key, 0);
            metadata.Add(new(key, value));
        }

        var alignment = DefaultAlignment;
        var byKey = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (byKey.TryGetValue(AlignmentKey, out var alignValue))
        {
            if (alignValue.Value is not uint a)
                throw new GgufException(source, $"'{AlignmentKey}' must be a UINT32, not {alignValue.Type}.");
            if (a == 0 || (a & (a - 1)) != 0 || a > (1u << 30))
                throw new GgufException(source, $"'{AlignmentKey}' is {a}; it must be a power of two (at most 2^30).");
            alignment = (int)a;
        }

        var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 65536));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
            tensors.Add(ReadTensorInfo(ref reader, names, byKey, alignment, source));

        var headerLength = reader.Position;
        // The data section starts at the next multiple of the alignment; headerLength < 2^62 here, so no overflow.
        var dataOffset = (headerLength + alignment - 1) / alignment * alignment;
        if (tensors.Count > 0 && dataOffset > fileLength)
            throw new GgufException(source, $"the data section would start at byte {dataOffset}, past the end of the {fileLength}-byte file.");
        var dataLength = Math.Max(0, fileLength - dataOffset);

        var ordered = tensors.OrderBy(t => t.Offset).ThenBy(t => t.ByteLength).ToList();
        long end = 0;
        GgufTensorInfo? previous = null;
        foreach (var t in ordered)
        {
            if (t.Offset < end)
                throw new GgufException(source, $"tensor '{SafetensorsHeader.Shorten(t.Name)}' starts at data byte {t.Offset}, overlapping '{SafetensorsHeader.Shorten(previous!.Name)}' (which ends at {end}).");
            if (t.ByteLength > dataLength - t.Offset)
                throw new GgufException(source, $"tensor '{SafetensorsHeader.Shorten(t.Name)}' ({t.Type}, {t.ByteLength} bytes at data byte {t.Offset}) runs past the end of the data section ({dataLength} bytes); the file is truncated or corrupt.");
            end = t.Offset + t.ByteLength;
            previous = t;
        }

        return new GgufHeader(version, metadata, tensors, alignment, dataOffset, headerLength);
    }

    private static GgufTensorInfo ReadTensorInfo(ref Reader reader, HashSet<string> names, Dictionary<string, GgufValue> metadata,
        int alignment, string source)
    {
        var name = reader.String("a tensor name");
        var shown = SafetensorsHeader.Shorten(name);
        if (!names.Add(name))
            throw new GgufException(source, $"the tensor name '{shown}' appears more than once.");
        var nDims = reader.U32();
        if (nDims > MaxDimensions)
            throw new GgufException(source, $"tensor '{shown}' has {nDims} dimensions; ggml allows at most {MaxDimensions}.");
        var ne = new long[nDims];
        long count = 1;
        for (var d = 0; d < nDims; d++)
        {
            var n = reader.U64();
            if (n > long.MaxValue)
                throw new GgufException(source, $"tensor '{shown}' has dimension {d} = {n}, which is too large.");
            ne[d] = (long)n;
            if (!TryMultiply(count, ne[d], out count))
                throw new GgufException(source, $"tensor '{shown}' has dimensions [{string.Join(", ", ne.Take(d + 1))}] whose element count overflows.");
        }
        var rawType = reader.U32();
        var type = (GgmlType)rawType;
        if (!GgmlTypes.IsKnown(type))
            throw new GgufException(source, $"tensor '{shown}' has unknown ggml type {rawType}.");
        var offsetRaw = reader.U64();

        var blockSize = type.BlockSize();
        var rowLength = nDims == 0 ? 1 : ne[0];
        if (rowLength % blockSize != 0)
            throw new GgufException(source, $"tensor '{shown}' is {type} with rows of {rowLength} elements, not a multiple of its block size {blockSize}.");
        if (!TryMultiply(count / blockSize, type.TypeSize(), out var byteLength))
            throw new GgufException(source, $"tensor '{shown}' is too large.");
        if (offsetRaw > long.MaxValue)
            throw new GgufException(source, $"tensor '{shown}' has offset {offsetRaw}, which is too large.");
        var offset = (long)offsetRaw;
        if (offset % alignment != 0)
            throw new GgufException(source, $"tensor '{shown}' starts at data byte {offset}, not a multiple of the alignment {alignment}.");

        var shape = ne.Reverse().ToArray();
        if (metadata.TryGetValue(OriginalShapePrefix + name, out var original))
            shape = OriginalShape(original, count, shown, source);
        return new GgufTensorInfo(name, type, ne, shape, offset, byteLength);
    }

    private static long[] OriginalShape(GgufValue value, long count, string shown, string source)
    {
        if (value.Type != GgufValueType.Array || !value.TryGetIntegers(out var shape) || shape.Length > 16)
            throw new GgufException(source, $"'{OriginalShapePrefix}{shown}' must be an array of at most 16 integers.");
        long product = 1;
        foreach (var d in shape)
            if (d < 0 || !TryMultiply(product, d, out product))
                throw new GgufException(source, $"'{OriginalShapePrefix}{shown}' holds a dimension that is negative or too large.");
        if (product != count)
            throw new GgufException(source, $"'{OriginalShapePrefix}{shown}' is [{string.Join(", ", shape)}] = {product} elements, but the tensor holds {count}.");
        return shape;
    }

    private static GgufValue ReadValue(ref Reader reader, GgufValueType type, string key, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return new(type, reader.Byte());
            case GgufValueType.Int8: return new(type, (sbyte)reader.Byte());
            case GgufValueType.UInt16: return new(type, BinaryPrimitives.ReadUInt16LittleEndian(reader.Take(2)));
            case GgufValueType.Int16: return new(type, BinaryPrimitives.ReadInt16LittleEndian(reader.Take(2)));
            case GgufValueType.UInt32: return new(type, reader.U32());
            case GgufValueType.Int32: return new(type, BinaryPrimitives.ReadInt32LittleEndian(reader.Take(4)));
            case GgufValueType.Float32: return new(type, BinaryPrimitives.ReadSingleLittleEndian(reader.Take(4)));
            case GgufValueType.UInt64: return new(type, reader.U64());
            case GgufValueType.Int64: return new(type, BinaryPrimitives.ReadInt64LittleEndian(reader.Take(8)));
            case GgufValueType.Float64: return new(type, BinaryPrimitives.ReadDoubleLittleEndian(reader.Take(8)));
            case GgufValueType.Bool:
                var b = reader.Byte();
                if (b > 1)
                    throw new GgufException(reader.Source, $"metadata '{SafetensorsHeader.Shorten(key)}' is a BOOL holding {b}, not 0 or 1.");
                return new(type, b == 1);
            case GgufValueType.String: return new(type, reader.String($"the value of '{SafetensorsHeader.Shorten(key)}'"));
            case GgufValueType.Array:
                if (depth >= MaxArrayDepth)
                    throw new GgufException(reader.Source, $"metadata '{SafetensorsHeader.Shorten(key)}' nests arrays more than {MaxArrayDepth} deep.");
                var elementType = reader.ValueType(key);
                var length = reader.U64();
                var minSize = elementType switch
                {
                    GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                    GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                    GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                    GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
                    _ => 12, // a nested array: its element type and length
                };
                // The items must fit in what remains of the file and of the header limit; and before anything is
                // allocated, their minimum size must already have been read, so memory stays proportional to the header.
                if (length > (ulong)(reader.Remaining / minSize) || length > (ulong)(reader.HeaderRoom / minSize))
                    throw new GgufException(reader.Source, $"metadata '{SafetensorsHeader.Shorten(key)}' claims {length} array items, more than the {Math.Min(reader.Remaining, reader.HeaderRoom)} remaining bytes can hold.");
                var count = (int)length;
                reader.Ensure((long)count * minSize);
                return new(type, ReadArray(ref reader, elementType, count, key, depth), elementType);
            default:
                throw new InvalidOperationException("unreachable: value types are checked when read");
        }
    }

    private static Array ReadArray(ref Reader reader, GgufValueType elementType, int count, string key, int depth)
    {
        switch (elementType)
        {
            case GgufValueType.UInt8: return reader.Take(count).ToArray();
            case GgufValueType.Int8: return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(reader.Take(count)).ToArray();
            case GgufValueType.Bool:
                var flags = reader.Take(count);
                if (flags.IndexOfAnyExcept((byte)0, (byte)1) >= 0)
                    throw new GgufException(reader.Source, $"metadata '{SafetensorsHeader.Shorten(key)}' is a BOOL array holding a byte other than 0 and 1.");
                var bools = new bool[count];
                for (var i = 0; i < count; i++) bools[i] = flags[i] == 1;
                return bools;
            case GgufValueType.UInt16: return Fill(reader.Take(2L * count), new ushort[count], 2, BinaryPrimitives.ReadUInt16LittleEndian);
            case GgufValueType.Int16: return Fill(reader.Take(2L * count), new short[count], 2, BinaryPrimitives.ReadInt16LittleEndian);
            case GgufValueType.UInt32: return Fill(reader.Take(4L * count), new uint[count], 4, BinaryPrimitives.ReadUInt32LittleEndian);
            case GgufValueType.Int32: return Fill(reader.Take(4L * count), new int[count], 4, BinaryPrimitives.ReadInt32LittleEndian);
            case GgufValueType.Float32: return Fill(reader.Take(4L * count), new float[count], 4, BinaryPrimitives.ReadSingleLittleEndian);
            case GgufValueType.UInt64: return Fill(reader.Take(8L * count), new ulong[count], 8, BinaryPrimitives.ReadUInt64LittleEndian);
            case GgufValueType.Int64: return Fill(reader.Take(8L * count), new long[count], 8, BinaryPrimitives.ReadInt64LittleEndian);
            case GgufValueType.Float64: return Fill(reader.Take(8L * count), new double[count], 8, BinaryPrimitives.ReadDoubleLittleEndian);
            case GgufValueType.String:
                var strings = new string[count];
                for (var i = 0; i < count; i++)
                    strings[i] = reader.String($"item {i} of '{SafetensorsHeader.Shorten(key)}'");
                return strings;
            default:
                var nested = new GgufValue[count];
                for (var i = 0; i < count; i++)
                    nested[i] = ReadValue(ref reader, elementType, key, depth + 1);
                return nested;
        }
    }

    private delegate T Decode<T>(ReadOnlySpan<byte> bytes);

    private static T[] Fill<T>(ReadOnlySpan<byte> bytes, T[] items, int size, Decode<T> decode)
    {
        for (var i = 0; i < items.Length; i++)
            items[i] = decode(bytes.Slice(i * size, size));
        return items;
    }

    private static bool TryMultiply(long a, long b, out long product)
    {
        try
        {
            product = checked(a * b);
            return true;
        }
        catch (OverflowException)
        {
            product = 0;
            return false;
        }
    }

    /// <summary>The header runs past the bytes read so far; <see cref="Needed"/> is how many the parser wanted.</summary>
    internal sealed class IncompleteHeader(long needed) : Exception
    {
        public long Needed { get; } = needed;
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes, long fileLength, string source)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private readonly long _fileLength = fileLength;
        private int _position;

        public readonly string Source => source;

        public readonly long Position => _position;

        /// <summary>Bytes of the file after the current position.</summary>
        public readonly long Remaining => _fileLength - _position;

        /// <summary>Bytes the header may still grow by before it hits <see cref="MaxHeaderLength"/>.</summary>
        public readonly long HeaderRoom => MaxHeaderLength - _position;

        /// <summary>Checks that <paramref name="count"/> more bytes exist, and asks for a longer prefix if they are not read yet.</summary>
        public readonly void Ensure(long count)
        {
            if (count > Remaining)
                throw new GgufException(source, $"the header ends early: {count} more bytes needed at byte {_position}, but the file is {_fileLength} bytes long.");
            if (_position + count > _bytes.Length)
            {
                if (_position + count > MaxHeaderLength)
                    throw new GgufException(source, $"the header is longer than the {MaxHeaderLength}-byte limit.");
                throw new IncompleteHeader(_position + count);
            }
        }

        public ReadOnlySpan<byte> Take(long count)
        {
            Ensure(count);
            var span = _bytes.Slice(_position, (int)count);
            _position += (int)count;
            return span;
        }


        public byte Byte() => Take(1)[0];

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public GgufValueType ValueType(string key)
        {
            var raw = U32();
            if (raw > (uint)GgufValueType.Float64)
                throw new GgufException(source, $"metadata '{SafetensorsHeader.Shorten(key)}' has unknown value type {raw}.");
            return (GgufValueType)raw;
        }

        public string String(string what)
        {
            var length = U64();
            if (length > (ulong)Remaining)
                throw new GgufException(source, $"{what} at byte {_position - 8} claims {length} bytes, more than the {Remaining} that remain in the file.");
            var bytes = Take((long)length);
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
                throw new GgufException(source, $"{what} at byte {_position - bytes.Length} is not valid UTF-8.");
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
