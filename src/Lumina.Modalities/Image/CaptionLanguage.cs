using System.Globalization;
using System.Text.Json;

namespace Lumina.Pipelines;

/// <summary>
/// What a small model trained on a closed caption language understands, read from <c>caption_language.json</c> in its
/// folder (the shipped demo model has one; released models do not, and get no checks). With it, the pipeline
/// lowercases prompts when the model only saw lowercase captions, and warns (<see cref="TextToImageResult.Warnings"/>)
/// about words the model never saw and sizes other than the one it was trained at: such prompts do not fail, they give
/// noise or tiled shapes, so a warning is the useful answer.
/// </summary>
public sealed record CaptionLanguage
{
    /// <summary>The file name in a model folder.</summary>
    public const string FileName = "caption_language.json";

    /// <summary>The model saw lowercase captions only: prompts are lowercased (invariant culture) before encoding.</summary>
    public bool Lowercase { get; init; }

    /// <summary>Every word of the captions it was trained on (compared after lowercasing when <see cref="Lowercase"/>).</summary>
    public IReadOnlySet<string> Words { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The width it was trained at (null = any).</summary>
    public int? NativeWidth { get; init; }

    /// <summary>The height it was trained at (null = any).</summary>
    public int? NativeHeight { get; init; }

    /// <summary>The caption grammar in words, for people (for example what <c>lumina info</c> prints).</summary>
    public string Description { get; init; } = "";

    /// <summary>Example captions.</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>The prompt as the model should see it (lowercased when <see cref="Lowercase"/>).</summary>
    public string Normalize(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Lowercase ? prompt.ToLowerInvariant() : prompt;
    }

    /// <summary>The words of <paramref name="prompt"/> (after <see cref="Normalize"/>) that are not in <see cref="Words"/>, in order, once each.</summary>
    public IReadOnlyList<string> UnknownWords(string prompt) =>
        [.. SplitWords(Normalize(prompt)).Where(w => !Words.Contains(w)).Distinct(StringComparer.Ordinal)];

    /// <summary>Warnings for a prompt at a size: unknown words, and a size other than the native one.</summary>
    public IReadOnlyList<string> Check(string prompt, int width, int height)
    {
        var warnings = new List<string>();
        var unknown = UnknownWords(prompt);
        if (unknown.Count > 0)
            warnings.Add($"This model does not know the word{(unknown.Count == 1 ? "" : "s")} {string.Join(", ", unknown.Select(w => $"'{w}'"))} (it knows: {Description}).");
        if ((NativeWidth is int w && w != width) || (NativeHeight is int h && h != height))
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"This model was trained at {NativeWidth ?? width}×{NativeHeight ?? height} only; at {width}×{height} expect repeated or broken shapes."));
        return warnings;
    }

    /// <summary>Reads <c>caption_language.json</c> from <paramref name="modelFolder"/>; null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid caption language (the message names it).</exception>
    public static CaptionLanguage? ReadFrom(string modelFolder)
    {
        ArgumentNullException.ThrowIfNull(modelFolder);
        var path = Path.Combine(modelFolder, FileName);
        if (!File.Exists(path))
            return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            int? Side(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
            var language = new CaptionLanguage
            {
                Lowercase = root.TryGetProperty("lowercase", out var lower) && lower.GetBoolean(),
                Words = root.GetProperty("words").EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal),
                NativeWidth = Side("native_width"),
                NativeHeight = Side("native_height"),
                Description = root.TryGetProperty("description", out var d) ? d.GetString() ?? "" : "",
                Examples = root.TryGetProperty("examples", out var e) ? [.. e.EnumerateArray().Select(x => x.GetString()!)] : [],
            };
            if (language.Words.Count == 0)
                throw new InvalidDataException("\"words\" is empty");
            return language;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"{path} is not a valid caption language: {e.Message}", e);
        }
    }

    private static IEnumerable<string> SplitWords(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var letter = i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '\'');
            if (letter && start < 0)
                start = i;
            else if (!letter && start >= 0)
            {
                yield return text[start..i];
                start = -1;
            }
        }
    }
}
