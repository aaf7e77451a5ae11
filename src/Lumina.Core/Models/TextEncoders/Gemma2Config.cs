using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Configuration of a Gemma 2 text model, with the names and defaults of Hugging Face's <c>Gemma2Config</c>
/// (the defaults are google/gemma-2-2b, the text encoder of the Lumina-Image-2.0 family).
/// </summary>
internal sealed record Gemma2Config
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 256000;

    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; } = 2304;

    /// <summary><c>intermediate_size</c>.</summary>
    public int IntermediateSize { get; init; } = 9216;

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 26;

    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; } = 8;

    /// <summary><c>num_key_value_heads</c>.</summary>
    public int NumKeyValueHeads { get; init; } = 4;

    /// <summary><c>head_dim</c>.</summary>
    public int HeadDim { get; init; } = 256;

    /// <summary><c>hidden_activation</c>.</summary>
    public string HiddenActivation { get; init; } = "gelu_pytorch_tanh";

    /// <summary><c>max_position_embeddings</c> (informational).</summary>
    public int MaxPositionEmbeddings { get; init; } = 8192;

    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary><c>attention_bias</c>.</summary>
    public bool AttentionBias { get; init; }

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

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; init; } = 0;

    /// <summary><c>eos_token_id</c>.</summary>
    public int? EosTokenId { get; init; } = 1;

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; init; } = 2;

    /// <summary>google/gemma-2-2b (the upstream defaults).</summary>
    public static Gemma2Config Gemma2_2B { get; } = new();

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    public static Gemma2Config FromJson(string json) => From(ConfigJson.Parse(json, "Gemma 2 config"));

    /// <summary>Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    public static Gemma2Config FromFile(string path) => From(ConfigJson.Load(path));

    private static Gemma2Config From(ConfigJson c)
    {
        c.RequireModelType("gemma2");
        var d = new Gemma2Config();
        int heads = c.Int("num_attention_heads", d.NumAttentionHeads);
        return new Gemma2Config
        {
            VocabSize = c.Int("vocab_size", d.VocabSize),
            HiddenSize = c.Int("hidden_size", d.HiddenSize),
            IntermediateSize = c.Int("intermediate_size", d.IntermediateSize),
            NumHiddenLayers = c.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = heads,
            NumKeyValueHeads = c.Int("num_key_value_heads", heads),
            HeadDim = c.Int("head_dim", d.HeadDim),
            HiddenActivation = c.String("hidden_activation", null) ?? d.HiddenActivation,
            MaxPositionEmbeddings = c.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            RmsNormEps = c.Double("rms_norm_eps", d.RmsNormEps),
            RopeTheta = c.Double("rope_theta", d.RopeTheta),
            AttentionBias = c.Bool("attention_bias", false),
            QueryPreAttnScalar = c.Double("query_pre_attn_scalar", d.QueryPreAttnScalar),
            SlidingWindow = c.NullableInt("sliding_window"),
            LayerTypes = c.StringList("layer_types"),
            AttnLogitSoftcapping = c.NullableDouble("attn_logit_softcapping"),
            FinalLogitSoftcapping = c.NullableDouble("final_logit_softcapping"),
            PadTokenId = c.NullableInt("pad_token_id"),
            EosTokenId = c.NullableInt("eos_token_id"),
            BosTokenId = c.NullableInt("bos_token_id"),
        };
    }

    internal DecoderSpec ToSpec()
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

        return new DecoderSpec
        {
            VocabSize = VocabSize,
            HiddenSize = HiddenSize,
            IntermediateSize = IntermediateSize,
            NumLayers = NumHiddenLayers,
            NumHeads = NumAttentionHeads,
            NumKeyValueHeads = NumKeyValueHeads,
            HeadDim = HeadDim,
            RmsNormEps = RmsNormEps,
            RopeTheta = RopeTheta,
            Activation = HiddenActivation,
            AttentionScale = 1.0 / Math.Sqrt(QueryPreAttnScalar),
            AttentionBias = AttentionBias,
            NormUnitOffset = true,
            ScaleEmbeddings = true,
            SandwichNorms = true,
            AttentionLogitSoftcap = AttnLogitSoftcapping,
            SlidingWindow = SlidingWindow,
            SlidingLayers = SlidingWindow is null ? null : sliding,
        };
    }
}
