using System.Buffers.Binary;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// Encodes float32 values as ggml blocks of the legacy types ComfyUI-GGUF's quantized files use for Lumina-Image 2.0
/// (Q8_0, Q4_0, Q4_1), with the same rounding as gguf-py's <c>quants.quantize</c> (so a file written from the same
/// float32 data is byte-identical to gguf-py's and llama-quantize's). Decode with <see cref="GgmlDequantizer"/>.
/// </summary>
internal static class GgmlQuantizer
{
    private const int Block = 32;

    /// <summary>The types <see cref="Quantize(GgmlType, ReadOnlySpan{float}, Span{byte})"/> encodes.</summary>
    public static IReadOnlyList<GgmlType> Supported { get; } = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1];

    /// <summary>Whether <paramref name="type"/> can be encoded.</summary>
    public static bool IsSupported(GgmlType type) => Supported.Contains(type);

    /// <summary>
    /// Encodes <paramref name="source"/> (a whole number of 32-value blocks) into <paramref name="destination"/>, which
    /// must hold exactly (values / 32) × <see cref="GgmlTypes.TypeSize"/> bytes.
    /// </summary>
    /// <exception cref="NotSupportedException">The type is not one of <see cref="Supported"/>.</exception>
    /// <exception cref="ArgumentException">The lengths are not whole blocks or do not agree.</exception>
    public static void Quantize(GgmlType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (!IsSupported(type))
            throw new NotSupportedException($"Lumina cannot quantize to ggml type {type}; supported: {string.Join(", ", Supported)}.");
        if (source.Length % Block != 0)
            throw new ArgumentException($"{source.Length} values are not whole {type} blocks of {Block}.", nameof(source));
        var blocks = source.Length / Block;
        var typeSize = type.TypeSize();
        if ((long)blocks * typeSize != destination.Length)
            throw new ArgumentException($"{blocks} {type} blocks take {(long)blocks * typeSize} bytes, but the destination holds {destination.Length}.", nameof(destination));
        for (var b = 0; b < blocks; b++)
        {
            var x = source.Slice(b * Block, Block);
            var y = destination.Slice(b * typeSize, typeSize);
            switch (type)
            {
                case GgmlType.Q8_0: EncodeQ8_0(x, y); break;
                case GgmlType.Q4_0: EncodeQ4_0(x, y); break;
                default: EncodeQ4_1(x, y); break;
            }
        }
    }

    /// <summary>
    /// Encodes a float tensor whose last dimension is a whole number of blocks into a new 1-D CPU byte tensor of its
    /// blocks (row after row, as <see cref="GgufFile.ReadRaw(string)"/> returns and <see cref="GgufWriter"/> writes).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not floating point, or its rows are not whole blocks.</exception>
    /// <exception cref="NotSupportedException">The type is not one of <see cref="Supported"/>.</exception>
    public static unsafe torch.Tensor Quantize(GgmlType type, torch.Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!IsSupported(type))
            throw new NotSupportedException($"Lumina cannot quantize to ggml type {type}; supported: {string.Join(", ", Supported)}.");
        if (!torch.is_floating_point(values) || values.dim() == 0 || values.shape[^1] % Block != 0)
            throw new ArgumentException($"{type} needs a floating-point tensor with rows of whole {Block}-value blocks; got {values.dtype} [{string.Join(", ", values.shape)}].", nameof(values));
        using var f32 = values.to(torch.ScalarType.Float32, torch.CPU).contiguous();
        var count = f32.numel();
        var bytes = count / Block * type.TypeSize();
        var raw = torch.empty(bytes, torch.ScalarType.Byte, torch.CPU);
        var input = (float*)TensorMemory.DataPointer(f32);
        var output = TensorMemory.DataPointer(raw);
        // Split into chunks of whole blocks that fit a span (and run in parallel for large tensors).
        const long chunkBlocks = 1 << 16;
        var chunks = (count / Block + chunkBlocks - 1) / chunkBlocks;
        var typeSize = type.TypeSize();
        Parallel.For(0L, chunks, c =>
        {
            var first = c * chunkBlocks;
            var n = (int)Math.Min(chunkBlocks, count / Block - first);
            Quantize(type, new ReadOnlySpan<float>(input + first * Block, n * Block), new Span<byte>(output + first * typeSize, n * typeSize));
        });
        return raw;
    }

    // gguf-py Q8_0: d = amax / 127; q = round-half-away(x · (1/d)), all in float32; d stored as fp16.
    private static void EncodeQ8_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        var amax = 0f;
        foreach (var v in x) amax = Math.Max(amax, Math.Abs(v));
        var d = amax / 127f;
        var id = d == 0f ? 0f : 1f / d;
        BinaryPrimitives.WriteHalfLittleEndian(y, (Half)d);
        for (var j = 0; j < Block; j++)
            y[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    // gguf-py Q4_0: d = (the value of largest magnitude, first on ties) / −8; q = trunc(float32(x·(1/d) + 8.5 in float64)) clipped to 0..15.
    private static void EncodeQ4_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        var max = 0f;
        var amax = -1f;
        foreach (var v in x)
        {
            if (Math.Abs(v) > amax)
            {
                amax = Math.Abs(v);
                max = v;
            }
        }
        var d = max / -8f;
        var id = d == 0f ? 0f : 1f / d;
        BinaryPrimitives.WriteHalfLittleEndian(y, (Half)d);
        Span<byte> q = stackalloc byte[Block];
        for (var j = 0; j < Block; j++)
            q[j] = Clip(MathF.Truncate((float)((double)x[j] * id + 8.5)), 15);
        Pack(q, y[2..]);
    }

    // gguf-py Q4_1: d = (max − min) / 15, m = min; q = trunc((x − min)·(1/d) + 0.5) in float32, clipped to 0..15.
    private static void EncodeQ4_1(ReadOnlySpan<float> x, Span<byte> y)
    {
        float min = x[0], max = x[0];
        foreach (var v in x)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        var d = (max - min) / 15f;
        var id = d == 0f ? 0f : 1f / d;
        BinaryPrimitives.WriteHalfLittleEndian(y, (Half)d);
        BinaryPrimitives.WriteHalfLittleEndian(y[2..], (Half)min);
        Span<byte> q = stackalloc byte[Block];
        for (var j = 0; j < Block; j++)
            q[j] = Clip(MathF.Truncate((x[j] - min) * id + 0.5f), 15);
        Pack(q, y[4..]);
    }

    // Float → uint8 as numpy's astype(uint8) of a value in [0, 255], then clip to max.
    private static byte Clip(float value, int max) => (byte)Math.Min(max, (int)value);

    // Element j < 16 in the low nibble of byte j, element j + 16 in its high nibble.
    private static void Pack(ReadOnlySpan<byte> q, Span<byte> qs)
    {
        for (var j = 0; j < Block / 2; j++)
            qs[j] = (byte)(q[j] | (q[j + Block / 2] << 4));
    }
}
