namespace Lumina.Tensors;

/// <summary>
/// Raised for every way a safetensors file or shard index can be malformed, corrupt or hostile: a bad header
/// length, invalid UTF-8 or JSON, unknown or unsupported dtypes, bad shapes, offsets that overlap, leave gaps or
/// point outside the file, duplicate names, or a file that shrank while it was read. The message names the file
/// and the problem. Reading never goes out of bounds and never crashes the process.
/// </summary>
public sealed class SafetensorsException : TensorFileException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> with a description of the problem.</summary>
    public SafetensorsException(string filePath, string problem, Exception? innerException = null)
        : base($"Invalid safetensors file '{filePath}': {problem}", filePath, problem, innerException)
    {
    }
}
