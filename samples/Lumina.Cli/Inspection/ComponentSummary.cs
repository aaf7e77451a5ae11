using Lumina.Tensors;

namespace Lumina.Cli.Inspection;

/// <summary>What one checkpoint holds.</summary>
/// <param name="Path">The file, shard index or folder the tensors came from.</param>
/// <param name="Family">The recognised model family.</param>
/// <param name="KeyLayout">Whose tensor names it uses (original, diffusers, transformers).</param>
/// <param name="Files">How many safetensors files.</param>
/// <param name="Tensors">Every tensor, in file order.</param>
/// <param name="Metadata">The safetensors metadata of every file.</param>
internal sealed record ComponentSummary(
    string Path,
    string Family,
    string KeyLayout,
    int Files,
    IReadOnlyList<SafetensorsTensorInfo> Tensors,
    IReadOnlyList<KeyValuePair<string, string>> Metadata)
{
    /// <summary>Total number of elements.</summary>
    public long Parameters => Tensors.Sum(t => t.ElementCount);

    /// <summary>Total bytes of tensor data.</summary>
    public long Bytes => Tensors.Sum(t => t.ByteLength);

    /// <summary>Dtypes and how many tensors use each, like <c>F32 ×61</c>.</summary>
    public string DTypes => string.Join(", ", Tensors.GroupBy(t => t.DType).Select(g => $"{g.Key} ×{g.Count()}"));
}
