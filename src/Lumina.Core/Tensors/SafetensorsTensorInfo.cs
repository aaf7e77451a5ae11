namespace Lumina.Tensors;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor's key.</param>
/// <param name="DType">Its element type.</param>
/// <param name="Shape">Its shape (empty for a scalar).</param>
/// <param name="Begin">Offset of its first byte, relative to the start of the data section.</param>
/// <param name="End">Offset one past its last byte, relative to the start of the data section.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The number of bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The shape as an array, for TorchSharp calls.</summary>
    public long[] ShapeArray() => Shape.ToArray();

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {DType}[{string.Join(", ", Shape)}]";
}
