using System.Text;

namespace Lumina.Adapters;

/// <summary>An adapter file is malformed: a module is incomplete, misshapen, or its metadata cannot be read.</summary>
public sealed class LoraFormatException : LuminaException
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public LoraFormatException(string path, string problem)
        : base($"The LoRA file '{path}' cannot be used: {problem}")
    {
        Path = path;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
}

/// <summary>
/// A strict apply found adapter keys that patch nothing in this model, or updates whose shape does not fit the weight
/// they name. The message lists them by name; nothing was applied.
/// </summary>
public sealed class LoraMismatchException : LuminaException
{
    private const int Shown = 40;

    /// <summary>Creates the exception.</summary>
    public LoraMismatchException(string path, IReadOnlyList<string> unmatchedKeys, IReadOnlyList<string> shapeMismatches)
        : base(BuildMessage(path, unmatchedKeys, shapeMismatches))
    {
        Path = path;
        UnmatchedKeys = unmatchedKeys;
        ShapeMismatches = shapeMismatches;
    }

    /// <summary>The adapter file.</summary>
    public string Path { get; }

    /// <summary>File keys that patch no weight of the model.</summary>
    public IReadOnlyList<string> UnmatchedKeys { get; }

    /// <summary>Modules whose update does not have the shape of the weight they name.</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    private static string BuildMessage(string path, IReadOnlyList<string> unmatched, IReadOnlyList<string> shapes)
    {
        var first = unmatched.Count > 0 ? $"; first: {string.Join(", ", unmatched.Take(3))}" : $"; first: {shapes[0]}";
        var text = new StringBuilder($"The LoRA file '{path}' does not fit this model ({unmatched.Count} keys patch nothing, {shapes.Count} updates have the wrong shape{first}). ");
        text.Append("Check that the adapter was trained for this model family; to apply the modules that do fit and skip the rest, set IgnoreUnmatchedKeys.");
        Append(text, "Keys that patch nothing", unmatched);
        Append(text, "Shape mismatches", shapes);
        return text.ToString();
    }

    private static void Append(StringBuilder text, string title, IReadOnlyList<string> items)
    {
        if (items.Count == 0) return;
        text.Append(Environment.NewLine).Append(title).Append(": ").Append(string.Join(", ", items.Take(Shown)));
        if (items.Count > Shown) text.Append($", … and {items.Count - Shown} more");
    }
}

/// <summary>How an adapter is matched against a model.</summary>
public sealed record LoraLoadOptions
{
    /// <summary>The defaults: strict.</summary>
    public static LoraLoadOptions Default { get; } = new();

    /// <summary>
    /// Apply what fits and skip keys that patch nothing (they are still listed in <see cref="LoraHandle.UnmatchedKeys"/>).
    /// Shape mismatches are always an error. Default false: any such key fails the load and is named.
    /// </summary>
    public bool IgnoreUnmatchedKeys { get; init; }
}
