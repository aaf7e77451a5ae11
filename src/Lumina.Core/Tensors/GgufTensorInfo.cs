namespace Lumina.Tensors;

/// <summary>One validated tensor info of a GGUF file.</summary>
/// <param name="Name">The tensor's name, as stored.</param>
/// <param name="Type">Its ggml type.</param>
/// <param name="Dimensions">ggml's <c>ne</c>: the sizes innermost (fastest-varying) first, as stored.</param>
/// <param name="Shape">The torch shape: <c>reversed(ne)</c>, or the <c>comfy.gguf.orig_shape.&lt;name&gt;</c> metadata when present.</param>
/// <param name="Offset">Offset of its first byte, relative to the start of the data section (a multiple of the alignment).</param>
/// <param name="ByteLength">The number of stored bytes (blocks × bytes per block).</param>
internal sealed record GgufTensorInfo(string Name, GgmlType Type, IReadOnlyList<long> Dimensions, IReadOnlyList<long> Shape, long Offset, long ByteLength)
{
    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, b) => a * b);

    /// <summary>The torch shape as an array, for TorchSharp calls.</summary>
    public long[] ShapeArray() => Shape.ToArray();

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Type}[{string.Join(", ", Shape)}]";
}
