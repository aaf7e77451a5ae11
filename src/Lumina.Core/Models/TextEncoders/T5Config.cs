using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Configuration of a T5 encoder, with the names and defaults of Hugging Face's <c>T5Config</c>. Lumina-T2Music reads
/// the encoder of FLAN-T5-large (<see cref="FlanT5LargeEncoder"/>).
/// </summary>
public sealed record T5Config
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 32128;

    /// <summary><c>d_model</c>.</summary>
    public int DModel { get; init; } = 512;

    /// <summary><c>d_kv</c>: width of one attention head.</summary>
    public int DKv { get; init; } = 64;

    /// <summary><c>d_ff</c>.</summary>
    public int DFf { get; init; } = 2048;

    /// <summary><c>num_layers</c> (encoder blocks).</summary>
    public int NumLayers { get; init; } = 6;

    /// <summary><c>num_heads</c>.</summary>
    public int NumHeads { get; init; } = 8;

    /// <summary><c>relative_attention_num_buckets</c>.</summary>
    public int RelativeAttentionNumBuckets { get; init; } = 32;

    /// <summary><c>relative_attention_max_distance</c>.</summary>
    public int RelativeAttentionMaxDistance { get; init; } = 128;

    /// <summary><c>layer_norm_epsilon</c>.</summary>
    public double LayerNormEpsilon { get; init; } = 1e-6;

    /// <summary><c>feed_forward_proj</c>: <c>relu</c> (T5 v1.0) or <c>gated-gelu</c> (T5 v1.1, FLAN-T5), or <c>[gated-]act</c>.</summary>
    public string FeedForwardProj { get; init; } = "relu";

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; init; } = 0;

    /// <summary><c>eos_token_id</c>.</summary>
    public int? EosTokenId { get; init; } = 1;

    /// <summary>google/flan-t5-large's encoder: 24 blocks, d_model 1024, 16 heads of 64, gated-GELU d_ff 2816.</summary>
    public static T5Config FlanT5LargeEncoder { get; } = new()
    {
        DModel = 1024,
        DKv = 64,
        DFf = 2816,
        NumLayers = 24,
        NumHeads = 16,
        FeedForwardProj = "gated-gelu",
    };

    /// <summary>Whether the feed-forward is gated (<c>wi_0</c>, <c>wi_1</c>) rather than plain (<c>wi</c>).</summary>
    public bool IsGated => FeedForwardProj.StartsWith("gated-", StringComparison.Ordinal);

    /// <summary>The Hugging Face activation name; <c>gated-gelu</c> means the tanh formula <c>gelu_new</c>, as upstream.</summary>
    public string ActivationName
    {
        get
        {
            string act = IsGated ? FeedForwardProj["gated-".Length..] : FeedForwardProj;
            return FeedForwardProj == "gated-gelu" ? "gelu_new" : act;
        }
    }

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    public static T5Config FromJson(string json) => From(ConfigJson.Parse(json, "T5 config"));

    /// <summary>Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    public static T5Config FromFile(string path) => From(ConfigJson.Load(path));

    private static T5Config From(ConfigJson c)
    {
        c.RequireModelType("t5", "umt5", "mt5");
        var d = new T5Config();
        return new T5Config
        {
            VocabSize = c.Int("vocab_size", d.VocabSize),
            DModel = c.Int("d_model", d.DModel),
            DKv = c.Int("d_kv", d.DKv),
            DFf = c.Int("d_ff", d.DFf),
            NumLayers = c.Int("num_layers", d.NumLayers),
            NumHeads = c.Int("num_heads", d.NumHeads),
            RelativeAttentionNumBuckets = c.Int("relative_attention_num_buckets", d.RelativeAttentionNumBuckets),
            RelativeAttentionMaxDistance = c.Int("relative_attention_max_distance", d.RelativeAttentionMaxDistance),
            LayerNormEpsilon = c.Double("layer_norm_epsilon", d.LayerNormEpsilon),
            FeedForwardProj = c.String("feed_forward_proj", d.FeedForwardProj) ?? d.FeedForwardProj,
            PadTokenId = c.NullableInt("pad_token_id"),
            EosTokenId = c.NullableInt("eos_token_id"),
        };
    }

    internal void Validate()
    {
        foreach (var (value, name) in new[] { (VocabSize, "vocab_size"), (DModel, "d_model"), (DKv, "d_kv"), (DFf, "d_ff"), (NumLayers, "num_layers"), (NumHeads, "num_heads") })
        {
            if (value <= 0)
            {
                throw new ArgumentException($"{name} must be positive, got {value}.");
            }
        }

        if (RelativeAttentionNumBuckets < 4 || RelativeAttentionMaxDistance <= RelativeAttentionNumBuckets / 4)
        {
            throw new ArgumentException(
                $"relative_attention_num_buckets ({RelativeAttentionNumBuckets}) must be at least 4 and relative_attention_max_distance ({RelativeAttentionMaxDistance}) above a quarter of it.");
        }

        if (LayerNormEpsilon <= 0)
        {
            throw new ArgumentException($"layer_norm_epsilon must be positive, got {LayerNormEpsilon}.");
        }

        Activations.Validate(ActivationName);
    }
}
