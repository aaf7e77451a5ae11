using System.Buffers.Binary;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// Decodes ggml blocks to float32, bit for bit as ggml's <c>to_float</c> and gguf-py's <c>quants.dequantize</c> do:
/// every fp16 scale is widened to float32 first and each product and sum is one float32 operation in ggml's order
/// (never fused, never in float16 as ComfyUI-GGUF's default path does). Supports F32, F16, BF16, Q4_0, Q4_1, Q5_0,
/// Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL and IQ4_XS. Plain loops over spans, no allocation per block; large
/// tensors are split across threads.
/// </summary>
internal static class GgmlDequantizer
{
    private const int QK = 256;
    private const long ParallelThreshold = 1 << 16; // elements

    private static readonly sbyte[] NonLinearValues = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>The types <see cref="Dequantize(GgmlType, ReadOnlySpan{byte}, Span{float})"/> decodes.</summary>
    public static IReadOnlyList<GgmlType> Supported { get; } =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS,
    ];

    /// <summary>Whether <paramref name="type"/> can be decoded.</summary>
    public static bool IsSupported(GgmlType type) => Supported.Contains(type);

    /// <summary>
    /// Decodes whole blocks: <paramref name="source"/> holds n blocks of <see cref="GgmlTypes.TypeSize"/> bytes and
    /// <paramref name="destination"/> receives exactly n × <see cref="GgmlTypes.BlockSize"/> floats.
    /// </summary>
    /// <exception cref="NotSupportedException">The type is not one of <see cref="Supported"/>.</exception>
    /// <exception cref="ArgumentException">The lengths are not whole blocks or do not agree.</exception>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (!IsSupported(type))
            throw new NotSupportedException($"Lumina cannot dequantize ggml type {type}; supported: {string.Join(", ", Supported)}.");
        int blockSize = type.BlockSize(), typeSize = type.TypeSize();
        if (source.Length % typeSize != 0)
            throw new ArgumentException($"{source.Length} bytes are not whole {type} blocks of {typeSize} bytes.", nameof(source));
        var blocks = source.Length / typeSize;
        if ((long)blocks * blockSize != destination.Length)
            throw new ArgumentException($"{blocks} {type} blocks decode to {(long)blocks * blockSize} values, but the destination holds {destination.Length}.", nameof(destination));
        DecodeBlocks(type, source, destination, blocks);
    }

    /// <summary>
    /// Decodes a raw byte tensor (as read by <see cref="GgufFile.ReadRaw(string)"/>) into a new tensor of
    /// <paramref name="shape"/>, in <paramref name="dtype"/> on <paramref name="device"/> (decoding itself is always
    /// float32 on the CPU, then cast).
    /// </summary>
    /// <exception cref="ArgumentException">The raw tensor is not a contiguous CPU byte tensor of the right length.</exception>
    /// <exception cref="NotSupportedException">The type is not one of <see cref="Supported"/>.</exception>
    public static unsafe torch.Tensor Dequantize(GgmlType type, torch.Tensor raw, long[] shape, torch.ScalarType dtype = torch.ScalarType.Float32, torch.Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(shape);
        if (!IsSupported(type))
            throw new NotSupportedException($"Lumina cannot dequantize ggml type {type}; supported: {string.Join(", ", Supported)}.");
        if (raw.dtype != torch.ScalarType.Byte || raw.device_type != DeviceType.CPU || !raw.is_contiguous())
            throw new ArgumentException("The raw blocks must be a contiguous CPU byte tensor.", nameof(raw));
        long elements = 1;
        foreach (var d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            elements = checked(elements * d);
        }
        if (elements % type.BlockSize() != 0 || elements / type.BlockSize() * type.TypeSize() != raw.numel())
            throw new ArgumentException($"{raw.numel()} bytes of {type} do not hold [{string.Join(", ", shape)}].", nameof(raw));
        var output = torch.empty(shape, torch.ScalarType.Float32, torch.CPU);
        try
        {
            if (elements > 0)
                DequantizeInto(type, TensorMemory.DataPointer(raw), raw.numel(), (float*)TensorMemory.DataPointer(output));
        }
        catch
        {
            output.Dispose();
            throw;
        }
        var wantDevice = device ?? torch.CPU;
        if (dtype == torch.ScalarType.Float32 && wantDevice.type == DeviceType.CPU)
            return output;
        using (output)
            return output.to(dtype, wantDevice);
    }

    /// <summary>Decodes <paramref name="byteLength"/> bytes of whole blocks at <paramref name="source"/> into <paramref name="destination"/>, on several threads when large.</summary>
    internal static unsafe void DequantizeInto(GgmlType type, byte* source, long byteLength, float* destination)
    {
        int blockSize = type.BlockSize(), typeSize = type.TypeSize();
        var blocks = byteLength / typeSize;
        // Chunks stay well below 2^31 bytes and values so spans can describe them.
        var blocksPerChunk = Math.Max(1, Math.Min((1 << 24) / typeSize, (1 << 24) / blockSize));
        if (blocks * blockSize < ParallelThreshold || Environment.ProcessorCount == 1)
        {
            for (long b = 0; b < blocks; b += blocksPerChunk)
                DecodeChunk(type, source, destination, b, Math.Min(blocksPerChunk, blocks - b), typeSize, blockSize);
            return;
        }
        var parts = Math.Min(Environment.ProcessorCount * 4L, Math.Max(1, blocks * blockSize / (ParallelThreshold / 4)));
        var perPart = Math.Max(1, Math.Min(blocksPerChunk, (blocks + parts - 1) / parts));
        var chunks = (blocks + perPart - 1) / perPart;
        Parallel.For(0L, chunks, c =>
        {
            var first = c * perPart;
            DecodeChunk(type, source, destination, first, Math.Min(perPart, blocks - first), typeSize, blockSize);
        });
    }

    private static unsafe void DecodeChunk(GgmlType type, byte* source, float* destination, long firstBlock, long count, int typeSize, int blockSize)
    {
        var src = new ReadOnlySpan<byte>(source + firstBlock * typeSize, checked((int)(count * typeSize)));
        var dst = new Span<float>(destination + firstBlock * blockSize, checked((int)(count * blockSize)));
        DecodeBlocks(type, src, dst, (int)count);
    }

    private static void DecodeBlocks(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst, int blocks)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src.Slice(4 * i, 4));
                break;
            case GgmlType.F16:
                for (var i = 0; i < dst.Length; i++) dst[i] = Half(src, 2 * i);
                break;
            case GgmlType.BF16:
                for (var i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(2 * i, 2)) << 16);
                break;
            case GgmlType.Q8_0: for (var b = 0; b < blocks; b++) Q8_0(src.Slice(b * 34, 34), dst.Slice(b * 32, 32)); break;
            case GgmlType.Q4_0: for (var b = 0; b < blocks; b++) Q4_0(src.Slice(b * 18, 18), dst.Slice(b * 32, 32)); break;
            case GgmlType.Q4_1: for (var b = 0; b < blocks; b++) Q4_1(src.Slice(b * 20, 20), dst.Slice(b * 32, 32)); break;
            case GgmlType.Q5_0: for (var b = 0; b < blocks; b++) Q5_0(src.Slice(b * 22, 22), dst.Slice(b * 32, 32)); break;
            case GgmlType.Q5_1: for (var b = 0; b < blocks; b++) Q5_1(src.Slice(b * 24, 24), dst.Slice(b * 32, 32)); break;
            case GgmlType.IQ4_NL: for (var b = 0; b < blocks; b++) IQ4_NL(src.Slice(b * 18, 18), dst.Slice(b * 32, 32)); break;
            case GgmlType.Q2_K: for (var b = 0; b < blocks; b++) Q2_K(src.Slice(b * 84, 84), dst.Slice(b * QK, QK)); break;
            case GgmlType.Q3_K: for (var b = 0; b < blocks; b++) Q3_K(src.Slice(b * 110, 110), dst.Slice(b * QK, QK)); break;
            case GgmlType.Q4_K: for (var b = 0; b < blocks; b++) Q4_K(src.Slice(b * 144, 144), dst.Slice(b * QK, QK)); break;
            case GgmlType.Q5_K: for (var b = 0; b < blocks; b++) Q5_K(src.Slice(b * 176, 176), dst.Slice(b * QK, QK)); break;
            case GgmlType.Q6_K: for (var b = 0; b < blocks; b++) Q6_K(src.Slice(b * 210, 210), dst.Slice(b * QK, QK)); break;
            case GgmlType.IQ4_XS: for (var b = 0; b < blocks; b++) IQ4_XS(src.Slice(b * 136, 136), dst.Slice(b * QK, QK)); break;
            default: throw new NotSupportedException($"Lumina cannot dequantize ggml type {type}.");
        }
    }

    private static float Half(ReadOnlySpan<byte> bytes, int at) =>
        (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(at, 2)));

    // Q8_0: fp16 d, then 32 signed bytes; y = q·d.
    private static void Q8_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        for (var j = 0; j < 32; j++) y[j] = (sbyte)x[2 + j] * d;
    }

    // Legacy 4/5-bit blocks: value j < 16 is the low nibble of byte j, value j + 16 the high nibble; for the 5-bit types
    // bit j of the little-endian u32 qh is bit 4 of value j.
    private static void Q4_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var qs = x[2..];
        for (var j = 0; j < 16; j++)
        {
            y[j] = d * ((qs[j] & 0x0F) - 8);
            y[j + 16] = d * ((qs[j] >> 4) - 8);
        }
    }

    private static void Q4_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x, 0), m = Half(x, 2);
        var qs = x[4..];
        for (var j = 0; j < 16; j++)
        {
            y[j] = d * (qs[j] & 0x0F) + m;
            y[j + 16] = d * (qs[j] >> 4) + m;
        }
    }

    private static void Q5_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(x.Slice(2, 4));
        var qs = x[6..];
        for (var j = 0; j < 16; j++)
        {
            var lo = (qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            var hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[j] = d * (lo - 16);
            y[j + 16] = d * (hi - 16);
        }
    }

    private static void Q5_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Half(x, 0), m = Half(x, 2);
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(x.Slice(4, 4));
        var qs = x[8..];
        for (var j = 0; j < 16; j++)
        {
            var lo = (qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            var hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            y[j] = d * lo + m;
            y[j + 16] = d * hi + m;
        }
    }

    private static void IQ4_NL(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var qs = x[2..];
        for (var j = 0; j < 16; j++)
        {
            y[j] = d * NonLinearValues[qs[j] & 0x0F];
            y[j + 16] = d * NonLinearValues[qs[j] >> 4];
        }
    }

    // Q2_K: scales[16] (low nibble scale, high nibble min), qs[64], fp16 d, fp16 dmin. Value e = 128g + 32s + j is bits
    // 2s..2s+1 of qs[32g + j]; its scale is e / 16. y = (d·sc)·q − (dmin·m).
    private static void Q2_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var scales = x[..16];
        var qs = x.Slice(16, 64);
        float d = Half(x, 80), dmin = Half(x, 82);
        for (var e = 0; e < QK; e++)
        {
            int g = e >> 7, s = (e >> 5) & 3, j = e & 31;
            var sc = scales[e >> 4];
            float dl = d * (sc & 0x0F), ml = dmin * (sc >> 4);
            y[e] = dl * ((qs[32 * g + j] >> (2 * s)) & 3) - ml;
        }
    }

    // Q3_K: hmask[32], qs[64], scales[12] (16 six-bit scales), fp16 d. Low two bits as Q2_K; the high bit of value e is
    // bit e / 32 of hmask[e % 32], and a clear bit subtracts 4. Scale i: low nibble from byte i % 8 (high nibble for
    // i ≥ 8), top two bits from byte 8 + i % 4 at bit 2(i / 4); minus 32.
    private static void Q3_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var hmask = x[..32];
        var qs = x.Slice(32, 64);
        var sc = x.Slice(96, 12);
        var d = Half(x, 108);
        Span<float> dl = stackalloc float[16];
        for (var i = 0; i < 16; i++)
        {
            var low = i < 8 ? sc[i] & 0x0F : sc[i - 8] >> 4;
            var high = (sc[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
            dl[i] = d * ((low | (high << 4)) - 32);
        }
        for (var e = 0; e < QK; e++)
        {
            int g = e >> 7, s = (e >> 5) & 3, j = e & 31;
            var low = (qs[32 * g + j] >> (2 * s)) & 3;
            var highClear = ((hmask[j] >> (e >> 5)) & 1) ^ 1;
            y[e] = dl[e >> 4] * (low - (highClear << 2));
        }
    }

    // The 6-bit scales and mins of Q4_K/Q5_K, eight of each in 12 bytes.
    private static void ScaleMin(ReadOnlySpan<byte> s, int k, out int scale, out int min)
    {
        if (k < 4)
        {
            scale = s[k] & 63;
            min = s[k + 4] & 63;
        }
        else
        {
            scale = (s[k + 4] & 0x0F) | ((s[k - 4] >> 6) << 4);
            min = (s[k + 4] >> 4) | ((s[k] >> 6) << 4);
        }
    }

    // Q4_K: fp16 d, fp16 dmin, scales[12], qs[128]. Value e = 64g + 32s + j is nibble s of qs[32g + j], in sub-block
    // k = e / 32. Q5_K has qh[32] before qs: bit k of qh[j] is bit 4 of value 32k + j. y = (d·sc)·q − (dmin·m).
    private static void Q4_K(ReadOnlySpan<byte> x, Span<float> y) => Q45_K(x, y, ReadOnlySpan<byte>.Empty, x.Slice(16, 128));

    private static void Q5_K(ReadOnlySpan<byte> x, Span<float> y) => Q45_K(x, y, x.Slice(16, 32), x.Slice(48, 128));

    private static void Q45_K(ReadOnlySpan<byte> x, Span<float> y, ReadOnlySpan<byte> qh, ReadOnlySpan<byte> qs)
    {
        float d = Half(x, 0), dmin = Half(x, 2);
        var scales = x.Slice(4, 12);
        for (var k = 0; k < 8; k++)
        {
            ScaleMin(scales, k, out var sc, out var m);
            float dk = d * sc, mk = dmin * m;
            int g = k >> 1, shift = 4 * (k & 1);
            for (var j = 0; j < 32; j++)
            {
                var q = (qs[32 * g + j] >> shift) & 0x0F;
                if (!qh.IsEmpty)
                    q |= ((qh[j] >> k) & 1) << 4;
                y[32 * k + j] = dk * q - mk;
            }
        }
    }

    // Q6_K: ql[128], qh[64], int8 scales[16], fp16 d. In half g (128 values), value r is nibble r / 64 of ql[64g + r % 64]
    // with bits 2(r / 32)..+1 of qh[32g + r % 32] on top; minus 32; scale e / 16.
    private static void Q6_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        var ql = x[..128];
        var qh = x.Slice(128, 64);
        var scales = x.Slice(192, 16);
        var d = Half(x, 208);
        Span<float> dl = stackalloc float[16];
        for (var i = 0; i < 16; i++) dl[i] = d * (sbyte)scales[i];
        for (var e = 0; e < QK; e++)
        {
            int g = e >> 7, r = e & 127;
            var low = (ql[64 * g + (r & 63)] >> (4 * (r >> 6))) & 0x0F;
            var high = (qh[32 * g + (r & 31)] >> (2 * (r >> 5))) & 3;
            y[e] = dl[e >> 4] * ((low | (high << 4)) - 32);
        }
    }

    // IQ4_XS: fp16 d, u16 scales_h, scales_l[4], qs[128]. Sub-block k (32 values): scale = (nibble k % 2 of scales_l[k / 2]
    // | bits 2k..2k+1 of scales_h << 4) − 32; its values are the nibbles of qs[16k..16k+15] (low first) into the IQ4_NL table.
    private static void IQ4_XS(ReadOnlySpan<byte> x, Span<float> y)
    {
        var d = Half(x, 0);
        var scalesHigh = BinaryPrimitives.ReadUInt16LittleEndian(x.Slice(2, 2));
        var scalesLow = x.Slice(4, 4);
        var qs = x.Slice(8, 128);
        for (var k = 0; k < 8; k++)
        {
            var ls = ((scalesLow[k >> 1] >> (4 * (k & 1))) & 0x0F) | (((scalesHigh >> (2 * k)) & 3) << 4);
            var dk = d * (ls - 32);
            for (var j = 0; j < 16; j++)
            {
                var q = qs[16 * k + j];
                y[32 * k + j] = dk * NonLinearValues[q & 0x0F];
                y[32 * k + j + 16] = dk * NonLinearValues[q >> 4];
            }
        }
    }
}
