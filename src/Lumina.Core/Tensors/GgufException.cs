namespace Lumina.Tensors;

/// <summary>
/// Raised for every way a GGUF file can be malformed, corrupt or hostile: a wrong magic or version, counts, string
/// lengths, array lengths or shapes that cannot fit in the file or overflow, invalid UTF-8, unknown value or tensor
/// types, duplicate keys or tensor names, a bad alignment, tensor data that overlaps or points outside the file, or a
/// file that shrank while it was read; also a tensor type that Lumina cannot dequantize. The message names the file and
/// the problem. Reading never goes out of bounds and never crashes the process.
/// </summary>
internal sealed class GgufException : TensorFileException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with a description of the problem.</summary>
    public GgufException(string filePath, string problem, Exception? innerException = null)
        : base($"Invalid GGUF file '{filePath}': {problem}", filePath, problem, innerException)
    {
    }
}
