namespace Lumina.Tensors;

/// <summary>The ggml tensor types a GGUF tensor info can name (the numeric ids are ggml's).</summary>
public enum GgmlType : uint
{
    /// <summary>IEEE single precision.</summary>
    F32 = 0,
    /// <summary>IEEE half precision.</summary>
    F16 = 1,
    /// <summary>Blocks of 32: an fp16 scale and 4-bit values (q − 8).</summary>
    Q4_0 = 2,
    /// <summary>Blocks of 32: fp16 scale and minimum, 4-bit values.</summary>
    Q4_1 = 3,
    /// <summary>Blocks of 32: an fp16 scale and 5-bit values (q − 16).</summary>
    Q5_0 = 6,
    /// <summary>Blocks of 32: fp16 scale and minimum, 5-bit values.</summary>
    Q5_1 = 7,
    /// <summary>Blocks of 32: an fp16 scale and signed 8-bit values.</summary>
    Q8_0 = 8,
    /// <summary>Blocks of 32 with a sum (an activation format; not dequantized).</summary>
    Q8_1 = 9,
    /// <summary>K-quant super-blocks of 256, 2-bit.</summary>
    Q2_K = 10,
    /// <summary>K-quant super-blocks of 256, 3-bit.</summary>
    Q3_K = 11,
    /// <summary>K-quant super-blocks of 256, 4-bit.</summary>
    Q4_K = 12,
    /// <summary>K-quant super-blocks of 256, 5-bit.</summary>
    Q5_K = 13,
    /// <summary>K-quant super-blocks of 256, 6-bit.</summary>
    Q6_K = 14,
    /// <summary>K-quant super-blocks of 256, 8-bit (an activation format; not dequantized).</summary>
    Q8_K = 15,
    /// <summary>Importance-matrix 2-bit (not dequantized).</summary>
    IQ2_XXS = 16,
    /// <summary>Importance-matrix 2-bit (not dequantized).</summary>
    IQ2_XS = 17,
    /// <summary>Importance-matrix 3-bit (not dequantized).</summary>
    IQ3_XXS = 18,
    /// <summary>Importance-matrix 1-bit (not dequantized).</summary>
    IQ1_S = 19,
    /// <summary>Blocks of 32: an fp16 scale and 4-bit indices into a non-linear table.</summary>
    IQ4_NL = 20,
    /// <summary>Importance-matrix 3-bit (not dequantized).</summary>
    IQ3_S = 21,
    /// <summary>Importance-matrix 2-bit (not dequantized).</summary>
    IQ2_S = 22,
    /// <summary>Super-blocks of 256: an fp16 scale, 6-bit sub-scales and 4-bit indices into the IQ4_NL table.</summary>
    IQ4_XS = 23,
    /// <summary>Signed 8-bit integer.</summary>
    I8 = 24,
    /// <summary>Signed 16-bit integer.</summary>
    I16 = 25,
    /// <summary>Signed 32-bit integer.</summary>
    I32 = 26,
    /// <summary>Signed 64-bit integer.</summary>
    I64 = 27,
    /// <summary>IEEE double precision.</summary>
    F64 = 28,
    /// <summary>Importance-matrix 1-bit (not dequantized).</summary>
    IQ1_M = 29,
    /// <summary>bfloat16.</summary>
    BF16 = 30,
    /// <summary>Ternary 1.6-bit (not dequantized).</summary>
    TQ1_0 = 34,
    /// <summary>Ternary 2-bit (not dequantized).</summary>
    TQ2_0 = 35,
    /// <summary>Microscaling fp4 (not dequantized).</summary>
    MXFP4 = 39,
}

/// <summary>Block layout of each <see cref="GgmlType"/>, as ggml defines it.</summary>
internal static class GgmlTypes
{
    /// <summary>Whether <paramref name="type"/> is a type ggml defines (a GGUF file may not name anything else).</summary>
    public static bool IsKnown(GgmlType type) => Layout(type).BlockSize != 0;

    /// <summary>Elements per block (1 for the plain types).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The type is not a ggml type.</exception>
    public static int BlockSize(this GgmlType type) =>
        Layout(type) is { BlockSize: > 0 } l ? l.BlockSize : throw Unknown(type);

    /// <summary>Bytes per block.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The type is not a ggml type.</exception>
    public static int TypeSize(this GgmlType type) =>
        Layout(type) is { BlockSize: > 0 } l ? l.TypeSize : throw Unknown(type);

    /// <summary>Whether the type stores blocks of scaled values rather than plain numbers.</summary>
    public static bool IsQuantized(this GgmlType type) =>
        type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.F64
            or GgmlType.I8 or GgmlType.I16 or GgmlType.I32 or GgmlType.I64);

    /// <summary>The safetensors/torch element type a tensor of this type is read as: itself for the plain types, F32 for block types.</summary>
    public static SafetensorsDType ReadType(this GgmlType type) => type switch
    {
        GgmlType.F16 => SafetensorsDType.F16,
        GgmlType.BF16 => SafetensorsDType.BF16,
        GgmlType.F64 => SafetensorsDType.F64,
        GgmlType.I8 => SafetensorsDType.I8,
        GgmlType.I16 => SafetensorsDType.I16,
        GgmlType.I32 => SafetensorsDType.I32,
        GgmlType.I64 => SafetensorsDType.I64,
        _ => SafetensorsDType.F32,
    };

    private static (int BlockSize, int TypeSize) Layout(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.I32 => (1, 4),
        GgmlType.F16 or GgmlType.BF16 or GgmlType.I16 => (1, 2),
        GgmlType.I8 => (1, 1),
        GgmlType.I64 or GgmlType.F64 => (1, 8),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.Q2_K => (256, 84),
        GgmlType.Q3_K => (256, 110),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q5_K => (256, 176),
        GgmlType.Q6_K => (256, 210),
        GgmlType.Q8_K => (256, 292),
        GgmlType.IQ2_XXS => (256, 66),
        GgmlType.IQ2_XS => (256, 74),
        GgmlType.IQ3_XXS => (256, 98),
        GgmlType.IQ1_S => (256, 50),
        GgmlType.IQ4_NL => (32, 18),
        GgmlType.IQ3_S => (256, 110),
        GgmlType.IQ2_S => (256, 82),
        GgmlType.IQ4_XS => (256, 136),
        GgmlType.IQ1_M => (256, 56),
        GgmlType.TQ1_0 => (256, 54),
        GgmlType.TQ2_0 => (256, 66),
        GgmlType.MXFP4 => (32, 17),
        _ => (0, 0),
    };

    private static ArgumentOutOfRangeException Unknown(GgmlType type) =>
        new(nameof(type), type, $"{(uint)type} is not a ggml tensor type.");
}
