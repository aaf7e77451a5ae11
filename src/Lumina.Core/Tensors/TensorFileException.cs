namespace Lumina.Tensors;

/// <summary>
/// The base of the exceptions raised for a malformed, corrupt or hostile tensor file (<see cref="SafetensorsException"/>,
/// <see cref="GgufException"/>). Catch it to handle a bad checkpoint of any format. The message names the file and the
/// problem; reading never goes out of bounds and never crashes the process.
/// </summary>
public abstract class TensorFileException : LuminaException
{
    /// <summary>Creates the exception with the full message, the file and the problem alone.</summary>
    protected TensorFileException(string message, string filePath, string problem, Exception? innerException = null)
        : base(message, innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file (or shard index) that is malformed.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
