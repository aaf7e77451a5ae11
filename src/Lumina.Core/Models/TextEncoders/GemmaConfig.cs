using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Configuration of a Gemma (v1) text model, with the names and defaults of Hugging Face's <c>GemmaConfig</c>.
/// Lumina-Next reads Gemma-2B (<see cref="Gemma2B"/>).
/// </summary>
public sealed record GemmaConfig
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 256000;

    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; } = 3072;

    /// <summary><c>intermediate_size</c>.</summary>
    public int IntermediateSize { get; init; } = 24576;

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 28;

    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; } = 16;

    /// <summary><c>num_key_value_heads</c> (1 = multi-query attention).</summary>
    public int NumKeyValueHeads { get; init; } = 16;

    /// <summary><c>head_dim</c>.</summary>
    public int HeadDim { get; init; } = 256;

    /// <summary><c>hidden_activation</c> (Gemma ignores <c>hidden_act</c>; absent means tanh-approximated GELU).</summary>
    public string HiddenActivation { get; init; } = "gelu_pytorch_tanh";

    /// <summary><c>max_position_embeddings</c> (informational; RoPE is computed for any length).</summary>
    public int MaxPositionEmbeddings { get; init; } = 8192;

    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary><c>attention_bias</c>.</summary>
    public bool AttentionBias { get; init; }

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; init; } = 0;

    /// <summary><c>eos_token_id</c>.</summary>
    public int? EosTokenId { get; init; } = 1;

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; init; } = 2;

    /// <summary>google/gemma-2b: 18 layers, hidden 2048, 8 heads, 1 KV head, head_dim 256, MLP 16384 (2,506,172,416 parameters).</summary>
    public static GemmaConfig Gemma2B { get; } = new()
    {
        HiddenSize = 2048,
        IntermediateSize = 16384,
        NumHiddenLayers = 18,
        NumAttentionHeads = 8,
        NumKeyValueHeads = 1,
        HeadDim = 256,
    };

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    public static GemmaConfig FromJson(string json) => From(ConfigJson.Parse(json, "Gemma config"));

    /// <summary>Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    public static GemmaConfig FromFile(string path) => From(ConfigJson.Load(path));

    /// <summary>This configuration as the text of a Hugging Face <c>config.json</c> (readable by <see cref="FromJson"/> and transformers).</summary>
    public string ToJson()
    {
        var root = new System.Text.Json.Nodes.JsonObject
        {
            ["architectures"] = new System.Text.Json.Nodes.JsonArray("GemmaModel"),
            ["model_type"] = "gemma",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["hidden_activation"] = HiddenActivation,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["attention_bias"] = AttentionBias,
            ["pad_token_id"] = PadTokenId,
            ["eos_token_id"] = EosTokenId,
            ["bos_token_id"] = BosTokenId,
            ["torch_dtype"] = "float32",
        };
        return root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static GemmaConfig From(ConfigJson c)
    {
        c.RequireModelType("gemma");
        var d = new GemmaConfig();
        int hidden = c.Int("hidden_size", d.HiddenSize);
        int heads = c.Int("num_attention_heads", d.NumAttentionHeads);
        return new GemmaConfig
        {
            VocabSize = c.Int("vocab_size", d.VocabSize),
            HiddenSize = hidden,
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
            PadTokenId = c.NullableInt("pad_token_id"),
            EosTokenId = c.NullableInt("eos_token_id"),
            BosTokenId = c.NullableInt("bos_token_id"),
        };
    }

    internal DecoderSpec ToSpec() => new()
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
        AttentionScale = 1.0 / Math.Sqrt(HeadDim),
        AttentionBias = AttentionBias,
        NormUnitOffset = true,
        ScaleEmbeddings = true,
    };
}
