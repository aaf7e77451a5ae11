using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumina.Tokenizers;

/// <summary>
/// The special-token settings of a Hugging Face tokenizer folder, read from its <c>tokenizer_config.json</c> and
/// <c>special_tokens_map.json</c>. Values in <c>tokenizer_config.json</c> win; <c>special_tokens_map.json</c> fills
/// the gaps.
/// </summary>
/// <remarks>Own code: Microsoft.ML.Tokenizers reads the SentencePiece model only, not these JSON files.</remarks>
internal sealed record HuggingFaceTokenizerConfig
{
    /// <summary>The text of the begin-of-sentence token, if configured.</summary>
    public string? BosToken { get; init; }

    /// <summary>The text of the end-of-sentence token, if configured.</summary>
    public string? EosToken { get; init; }

    /// <summary>The text of the padding token, if configured.</summary>
    public string? PadToken { get; init; }

    /// <summary>The text of the unknown token, if configured.</summary>
    public string? UnkToken { get; init; }

    /// <summary><c>add_bos_token</c>, if present.</summary>
    public bool? AddBosToken { get; init; }

    /// <summary><c>add_eos_token</c>, if present.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary><c>tokenizer_class</c>, for example <c>GemmaTokenizer</c>, <c>LlamaTokenizer</c> or <c>T5Tokenizer</c>.</summary>
    public string? TokenizerClass { get; init; }

    /// <summary><c>model_max_length</c>, if present and sensible.</summary>
    public int? ModelMaxLength { get; init; }

    /// <summary>Tokens from <c>added_tokens_decoder</c>: text → id.</summary>
    public IReadOnlyDictionary<string, int> AddedTokens { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// Reads the two JSON files of a tokenizer folder. Missing files give an empty configuration.
    /// </summary>
    /// <param name="folder">The folder holding <c>tokenizer.model</c> and its JSON siblings.</param>
    /// <exception cref="InvalidDataException">A file exists but is not valid JSON.</exception>
    public static HuggingFaceTokenizerConfig Read(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var config = new HuggingFaceTokenizerConfig();
        JsonObject? map = ReadObject(Path.Combine(folder, "special_tokens_map.json"));
        JsonObject? tc = ReadObject(Path.Combine(folder, "tokenizer_config.json"));

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (tc?["added_tokens_decoder"] is JsonObject decoder)
        {
            foreach (var (key, value) in decoder)
            {
                if (int.TryParse(key, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int id)
                    && TokenText(value) is { } content)
                {
                    added[content] = id;
                }
            }
        }

        int? maxLength = null;
        if (tc?["model_max_length"] is JsonValue ml && ml.TryGetValue(out double mlValue) && mlValue > 0 && mlValue < int.MaxValue)
        {
            maxLength = (int)mlValue;
        }

        return config with
        {
            BosToken = TokenText(tc?["bos_token"]) ?? TokenText(map?["bos_token"]),
            EosToken = TokenText(tc?["eos_token"]) ?? TokenText(map?["eos_token"]),
            PadToken = TokenText(tc?["pad_token"]) ?? TokenText(map?["pad_token"]),
            UnkToken = TokenText(tc?["unk_token"]) ?? TokenText(map?["unk_token"]),
            AddBosToken = Bool(tc?["add_bos_token"]),
            AddEosToken = Bool(tc?["add_eos_token"]),
            TokenizerClass = tc?["tokenizer_class"] is JsonValue cls && cls.TryGetValue(out string? name) ? name : null,
            ModelMaxLength = maxLength,
            AddedTokens = added,
        };
    }

    private static JsonObject? ReadObject(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"'{path}' does not hold a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    // A special token is written either as a plain string or as an AddedToken object {"content": "...", ...}.
    private static string? TokenText(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        _ => null,
    };

    private static bool? Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue(out bool b) ? b : null;
}
