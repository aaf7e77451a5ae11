using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Configuration of a LLaMA text model, with the names and defaults of Hugging Face's <c>LlamaConfig</c>.
/// Lumina-T2I reads LLaMA-2-7B (<see cref="Llama2_7B"/>).
/// </summary>
public sealed record LlamaConfig
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 32000;

    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; } = 4096;

    /// <summary><c>intermediate_size</c>.</summary>
    public int IntermediateSize { get; init; } = 11008;

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 32;

    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; } = 32;

    /// <summary><c>num_key_value_heads</c>; null = <see cref="NumAttentionHeads"/>.</summary>
    public int? NumKeyValueHeads { get; init; }

    /// <summary><c>head_dim</c>; null = hidden_size / num_attention_heads.</summary>
    public int? HeadDim { get; init; }

    /// <summary><c>hidden_act</c>.</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary><c>max_position_embeddings</c> (informational; RoPE is computed for any length).</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Linear <c>rope_scaling</c> factor (1 = none). Other scaling types are rejected when the config is read.</summary>
    public double RopeLinearScalingFactor { get; init; } = 1.0;

    /// <summary><c>attention_bias</c>.</summary>
    public bool AttentionBias { get; init; }

    /// <summary><c>mlp_bias</c>.</summary>
    public bool MlpBias { get; init; }

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; init; }

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; init; } = 1;

    /// <summary><c>eos_token_id</c>.</summary>
    public int? EosTokenId { get; init; } = 2;

    /// <summary>
    /// meta-llama/Llama-2-7b-hf: 32 layers, hidden 4096, 32 heads, MLP 11008, eps 1e-5 (6,607,343,616 parameters without
    /// the LM head).
    /// </summary>
    public static LlamaConfig Llama2_7B { get; } = new() { RmsNormEps = 1e-5, MaxPositionEmbeddings = 4096 };

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    public static LlamaConfig FromJson(string json) => From(ConfigJson.Parse(json, "LLaMA config"));

    /// <summary>Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    public static LlamaConfig FromFile(string path) => From(ConfigJson.Load(path));

    private static LlamaConfig From(ConfigJson c)
    {
        c.RequireModelType("llama");
        var d = new LlamaConfig();
        double factor = 1.0;
        if (c.Object("rope_scaling") is { } scaling)
        {
            string? type = (scaling["rope_type"] ?? scaling["type"])?.GetValue<string>();
            if (type is "linear")
            {
                factor = scaling["factor"]?.GetValue<double>() ?? throw new InvalidDataException("rope_scaling of type linear needs a factor.");
            }
            else if (type is not ("default" or null))
            {
                throw new NotSupportedException($"rope_scaling type '{type}' is not supported; only linear scaling is.");
            }
        }

        return new LlamaConfig
        {
            VocabSize = c.Int("vocab_size", d.VocabSize),
            HiddenSize = c.Int("hidden_size", d.HiddenSize),
            IntermediateSize = c.Int("intermediate_size", d.IntermediateSize),
            NumHiddenLayers = c.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = c.Int("num_attention_heads", d.NumAttentionHeads),
            NumKeyValueHeads = c.NullableInt("num_key_value_heads"),
            HeadDim = c.NullableInt("head_dim"),
            HiddenAct = c.String("hidden_act", d.HiddenAct) ?? d.HiddenAct,
            MaxPositionEmbeddings = c.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            RmsNormEps = c.Double("rms_norm_eps", d.RmsNormEps),
            RopeTheta = c.Double("rope_theta", d.RopeTheta),
            RopeLinearScalingFactor = factor,
            AttentionBias = c.Bool("attention_bias", false),
            MlpBias = c.Bool("mlp_bias", false),
            PadTokenId = c.NullableInt("pad_token_id"),
            BosTokenId = c.NullableInt("bos_token_id"),
            EosTokenId = c.NullableInt("eos_token_id"),
        };
    }

    internal DecoderSpec ToSpec()
    {
        if (NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0 && HeadDim is null)
        {
            throw new ArgumentException($"hidden_size ({HiddenSize}) must divide by num_attention_heads ({NumAttentionHeads}) unless head_dim is set.");
        }

        int headDim = HeadDim ?? HiddenSize / NumAttentionHeads;
        return new DecoderSpec
        {
            VocabSize = VocabSize,
            HiddenSize = HiddenSize,
            IntermediateSize = IntermediateSize,
            NumLayers = NumHiddenLayers,
            NumHeads = NumAttentionHeads,
            NumKeyValueHeads = NumKeyValueHeads ?? NumAttentionHeads,
            HeadDim = headDim,
            RmsNormEps = RmsNormEps,
            RopeTheta = RopeTheta,
            RopeLinearFactor = RopeLinearScalingFactor,
            Activation = HiddenAct,
            AttentionScale = 1.0 / Math.Sqrt(headDim),
            AttentionBias = AttentionBias,
            MlpBias = MlpBias,
        };
    }
}
