using System.Text;
using System.Text.Json;

namespace Lumina.Tensors;

/// <summary>
/// A parsed and fully validated safetensors header: the tensor entries (sorted by data offset) and the
/// free-form string metadata. Validation follows the reference implementation: valid UTF-8 JSON object, known
/// dtypes, non-negative shapes, data offsets that start at 0, are contiguous, do not overlap and end exactly at
/// the end of the data section, byte lengths equal to element count times element size, and unique names.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The largest header Lumina accepts, as in the reference implementation (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>The key that holds free-form metadata instead of a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsHeader(List<SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The tensor entries, in data-offset order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> strings (empty when the header has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGet(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>
    /// Parses and validates header JSON bytes against a data section of <paramref name="dataLength"/> bytes.
    /// </summary>
    /// <param name="json">The header bytes (after the 8-byte length prefix).</param>
    /// <param name="dataLength">The number of bytes that follow the header in the file.</param>
    /// <param name="source">The file name used in error messages.</param>
    /// <exception cref="SafetensorsException">The header is invalid in any way.</exception>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string source)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new SafetensorsException(source, "the header is not valid UTF-8.");

        JsonDocument document;
        try
        {
            var bytes = json.ToArray();
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new SafetensorsException(source, $"the header is not valid JSON ({ex.Message}).", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsException(source, $"the header must be a JSON object, not {root.ValueKind}.");

            var seen = new HashSet<string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in root.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                        throw new SafetensorsException(source, $"the name '{Shorten(property.Name)}' appears more than once in the header.");
                    if (property.Name == MetadataKey)
                        ReadMetadata(property.Value, metadata, source);
                    else
                        tensors.Add(ReadTensor(property.Name, property.Value, source));
                }
            }
            catch (InvalidOperationException ex)
            {
                // System.Text.Json accepts escapes such as a lone "\ud800" while parsing and only fails when the
                // string is read.
                throw new SafetensorsException(source, $"the header holds a string that is not valid text ({ex.Message}).", ex);
            }

            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long expected = 0;
            foreach (var t in tensors)
            {
                if (t.Begin != expected)
                    throw new SafetensorsException(source, t.Begin < expected
                        ? $"tensor '{Shorten(t.Name)}' starts at byte {t.Begin}, overlapping the previous tensor (which ends at {expected})."
                        : $"tensor '{Shorten(t.Name)}' starts at byte {t.Begin}, leaving a gap after byte {expected}.");
                expected = t.End;
                if (expected > dataLength)
                    throw new SafetensorsException(source, $"tensor '{Shorten(t.Name)}' ends at byte {t.End}, past the end of the data section ({dataLength} bytes).");
            }
            if (expected != dataLength)
                throw new SafetensorsException(source, $"the tensors cover {expected} bytes but the data section holds {dataLength} bytes.");

            return new SafetensorsHeader(tensors, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsException(source, $"'{MetadataKey}' must be an object of strings.");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsException(source, $"metadata entry '{Shorten(entry.Name)}' must be a string.");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new SafetensorsException(source, $"metadata entry '{Shorten(entry.Name)}' appears more than once.");
        }
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement value, string source)
    {
        var shown = Shorten(name);
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsException(source, $"entry '{shown}' must be an object with dtype, shape and data_offsets.");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafetensorsException(source, $"tensor '{shown}' has no dtype string.");
        var dtypeText = dtypeElement.GetString()!;
        // Enum.TryParse also accepts numbers and comma lists, so require the exact name.
        if (!Enum.TryParse<SafetensorsDType>(dtypeText, ignoreCase: false, out var dtype) || !Enum.IsDefined(dtype) || dtype.ToString() != dtypeText)
            throw new SafetensorsException(source, $"tensor '{shown}' has unknown dtype '{Shorten(dtypeText)}'.");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafetensorsException(source, $"tensor '{shown}' has no shape array.");
        var shape = new List<long>();
        long count = 1;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d) || d < 0)
                throw new SafetensorsException(source, $"tensor '{shown}' has a shape entry that is not a non-negative integer.");
            shape.Add(d);
            try { count = checked(count * d); }
            catch (OverflowException) { throw new SafetensorsException(source, $"tensor '{shown}' has a shape whose element count overflows."); }
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new SafetensorsException(source, $"tensor '{shown}' needs data_offsets [begin, end].");
        if (!TryGetInteger(offsets[0], out var begin) || !TryGetInteger(offsets[1], out var end) || begin < 0 || end < begin)
            throw new SafetensorsException(source, $"tensor '{shown}' has invalid data_offsets (they must be integers with 0 <= begin <= end).");

        long bytes;
        try { bytes = checked(count * dtype.ElementSize()); }
        catch (OverflowException) { throw new SafetensorsException(source, $"tensor '{shown}' is too large."); }
        if (end - begin != bytes)
            throw new SafetensorsException(source, $"tensor '{shown}' is {dtype}[{string.Join(", ", shape)}] = {bytes} bytes, but its data_offsets span {end - begin} bytes.");

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static bool TryGetInteger(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }

    /// <summary>Keeps hostile names from flooding error messages.</summary>
    internal static string Shorten(string text)
    {
        const int max = 120;
        var clean = new StringBuilder(Math.Min(text.Length, max));
        foreach (var c in text.Take(max))
            clean.Append(char.IsControl(c) ? '?' : c);
        return text.Length > max ? clean + "…" : clean.ToString();
    }
}
