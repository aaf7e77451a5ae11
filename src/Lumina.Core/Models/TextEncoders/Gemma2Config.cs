using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Configuration of a Gemma 2 text model, with the names and defaults of Hugging Face's <c>Gemma2Config</c>
/// (the defaults are google/gemma-2-2b, the text encoder of the Lumina-Image-2.0 family: vocab 256000, hidden 2304,
/// MLP 9216, 26 layers, 8 heads of 256 with 4 KV heads, 8192 positions; pad/eos/bos 0/1/2).
/// </summary>
internal sealed record Gemma2Config : GemmaConfig
{
    public Gemma2Config() : base(hiddenSize: 2304, intermediateSize: 9216, layers: 26, heads: 8, kvHeads: 4)
    {
    }

    /// <summary><c>query_pre_attn_scalar</c>: attention scores are scaled by its inverse square root.</summary>
    public double QueryPreAttnScalar { get; init; } = 256;

    /// <summary><c>sliding_window</c>: local layers attend to the last this-many tokens (the query included).</summary>
    public int? SlidingWindow { get; init; } = 4096;

    /// <summary>
    /// <c>layer_types</c>: per layer, <c>sliding_attention</c> or <c>full_attention</c>. Null = upstream's default
    /// alternation (even layers sliding, odd layers full).
    /// </summary>
    public IReadOnlyList<string>? LayerTypes { get; init; }

    /// <summary><c>attn_logit_softcapping</c>: scores become <c>cap·tanh(scores/cap)</c>; null = off.</summary>
    public double? AttnLogitSoftcapping { get; init; } = 50.0;

    /// <summary><c>final_logit_softcapping</c>: applies to LM-head logits only, so it does not change hidden states.</summary>
    public double? FinalLogitSoftcapping { get; init; } = 30.0;

    public override string ModelType => "gemma2";

    /// <summary>google/gemma-2-2b (the upstream defaults).</summary>
    public static Gemma2Config Gemma2_2B { get; } = new();

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    public static new Gemma2Config FromJson(string json) => From(ConfigJson.Parse(json, "Gemma 2 config"));

    /// <summary>Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    public static new Gemma2Config FromFile(string path) => From(ConfigJson.Load(path));

    internal static new Gemma2Config From(ConfigJson c)
    {
        var d = new Gemma2Config();
        return ReadGemma(c, d) with
        {
            QueryPreAttnScalar = c.Double("query_pre_attn_scalar", d.QueryPreAttnScalar),
            SlidingWindow = c.NullableInt("sliding_window"),
            LayerTypes = c.StringList("layer_types"),
            AttnLogitSoftcapping = c.NullableDouble("attn_logit_softcapping"),
            FinalLogitSoftcapping = c.NullableDouble("final_logit_softcapping"),
        };
    }

    private protected override string ModelClass => "Gemma2Model";

    private protected override void WriteOwn(JsonObject root)
    {
        root["query_pre_attn_scalar"] = QueryPreAttnScalar;
        root["sliding_window"] = SlidingWindow;
        root["layer_types"] = LayerTypes is null ? null : new JsonArray(LayerTypes.Select(t => (JsonNode?)t).ToArray());
        root["attn_logit_softcapping"] = AttnLogitSoftcapping;
        root["final_logit_softcapping"] = FinalLogitSoftcapping;
    }

    internal override DecoderSpec ToSpec()
    {
        IReadOnlyList<bool> sliding;
        if (LayerTypes is null)
        {
            sliding = Enumerable.Range(0, NumHiddenLayers).Select(i => i % 2 == 0).ToArray();
        }
        else
        {
            sliding = LayerTypes.Select(t => t switch
            {
                "sliding_attention" => true,
                "full_attention" => false,
                _ => throw new ArgumentException($"Unknown layer type '{t}'; expected sliding_attention or full_attention."),
            }).ToArray();
        }

        if (QueryPreAttnScalar <= 0)
        {
            throw new ArgumentException($"query_pre_attn_scalar must be positive, got {QueryPreAttnScalar}.");
        }

        return base.ToSpec() with
        {
            AttentionScale = 1.0 / Math.Sqrt(QueryPreAttnScalar),
            SandwichNorms = true,
            AttentionLogitSoftcap = AttnLogitSoftcapping,
            SlidingWindow = SlidingWindow,
            SlidingLayers = SlidingWindow is null ? null : sliding,
        };
    }
}
