using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// What the configurations of the decoder-only text models (<see cref="LlamaConfig"/>, <see cref="GemmaConfig"/>,
/// Gemma 2) share, with the names of Hugging Face's config classes: the sizes, the norm and RoPE settings and the
/// special token ids. Each family adds its own fields and defaults; <see cref="DecoderTextModel"/> builds any of them.
/// </summary>
public abstract record DecoderTextConfig
{
    private protected DecoderTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
        int? numKeyValueHeads, int? headDim, int maxPositionEmbeddings, (int? Pad, int? Bos, int? Eos) tokens)
    {
        (VocabSize, HiddenSize, IntermediateSize, NumHiddenLayers, NumAttentionHeads) = (vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads);
        (NumKeyValueHeads, HeadDim, MaxPositionEmbeddings) = (numKeyValueHeads, headDim, maxPositionEmbeddings);
        (PadTokenId, BosTokenId, EosTokenId) = tokens;
    }

    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; }

    /// <summary><c>hidden_size</c>: the width of the hidden states (the caption feature size).</summary>
    public int HiddenSize { get; init; }

    /// <summary><c>intermediate_size</c>: the MLP width.</summary>
    public int IntermediateSize { get; init; }

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; }

    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; }

    /// <summary><c>num_key_value_heads</c> (1 = multi-query attention); null = <see cref="NumAttentionHeads"/>.</summary>
    public int? NumKeyValueHeads { get; init; }

    /// <summary><c>head_dim</c>; null = hidden_size / num_attention_heads.</summary>
    public int? HeadDim { get; init; }

    /// <summary><c>max_position_embeddings</c> (informational; RoPE is computed for any length).</summary>
    public int MaxPositionEmbeddings { get; init; }

    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary><c>attention_bias</c>.</summary>
    public bool AttentionBias { get; init; }

    /// <summary><c>pad_token_id</c>.</summary>
    public int? PadTokenId { get; init; }

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; init; }

    /// <summary><c>eos_token_id</c>.</summary>
    public int? EosTokenId { get; init; }

    /// <summary>Key/value heads in use.</summary>
    public int KeyValueHeadCount => NumKeyValueHeads ?? NumAttentionHeads;

    /// <summary>Width of one attention head in use.</summary>
    public int HeadWidth => HeadDim ?? (NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0);

    /// <summary>The Hugging Face <c>model_type</c> of this family (<c>llama</c>, <c>gemma</c>, <c>gemma2</c>).</summary>
    public abstract string ModelType { get; }

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it) as the family its <c>model_type</c>
    /// names: <c>llama</c>, <c>gemma</c> or <c>gemma2</c>.
    /// </summary>
    /// <param name="path">File or folder path.</param>
    /// <exception cref="NotSupportedException">The config names another model type, or none.</exception>
    public static DecoderTextConfig FromFile(string path)
    {
        var c = ConfigJson.Load(path);
        return c.ModelType switch
        {
            "llama" => LlamaConfig.From(c),
            "gemma" => GemmaConfig.From(c),
            "gemma2" => Gemma2Config.From(c),
            var other => throw new NotSupportedException(
                $"{c}: model_type '{other ?? "(none)"}' is not a decoder text model this library builds; expected llama, gemma or gemma2."),
        };
    }

    /// <summary>
    /// The family's Hugging Face names: the class in <c>architectures</c>, the activation's field
    /// (<c>hidden_act</c> or <c>hidden_activation</c>) and the activation of the MLP.
    /// </summary>
    private protected abstract (string Architecture, string ActivationField, string Activation) Family { get; }

    private string Activation => Family.Activation;

    /// <summary>The Hugging Face class this configuration builds (<c>GemmaModel</c>, <c>LlamaModel</c>, …).</summary>
    internal string Architecture => Family.Architecture;

    /// <summary>This configuration as the text of a Hugging Face <c>config.json</c> (readable by <see cref="FromFile"/> and transformers).</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray(Family.Architecture),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = KeyValueHeadCount,
            ["head_dim"] = HeadDim,
            [Family.ActivationField] = Activation,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["attention_bias"] = AttentionBias,
            ["pad_token_id"] = PadTokenId,
            ["eos_token_id"] = EosTokenId,
            ["bos_token_id"] = BosTokenId,
        };
        WriteOwn(root);
        root["torch_dtype"] = "float32";
        return ConfigJson.Write(root);
    }

    /// <summary>Adds the family's own fields to a <c>config.json</c> being written.</summary>
    private protected virtual void WriteOwn(JsonObject root)
    {
    }

    /// <summary>The shared fields read from <paramref name="c"/> over <paramref name="defaults"/> (absent keys keep the family's defaults).</summary>
    private protected static T ReadShared<T>(ConfigJson c, T defaults) where T : DecoderTextConfig
    {
        c.RequireModelType(defaults.ModelType);
        return defaults with
        {
            VocabSize = c.Int("vocab_size", defaults.VocabSize),
            HiddenSize = c.Int("hidden_size", defaults.HiddenSize),
            IntermediateSize = c.Int("intermediate_size", defaults.IntermediateSize),
            NumHiddenLayers = c.Int("num_hidden_layers", defaults.NumHiddenLayers),
            NumAttentionHeads = c.Int("num_attention_heads", defaults.NumAttentionHeads),
            NumKeyValueHeads = c.NullableInt("num_key_value_heads"),
            HeadDim = c.NullableInt("head_dim") ?? defaults.HeadDim,
            MaxPositionEmbeddings = c.Int("max_position_embeddings", defaults.MaxPositionEmbeddings),
            RmsNormEps = c.Double("rms_norm_eps", defaults.RmsNormEps),
            RopeTheta = c.Double("rope_theta", defaults.RopeTheta),
            AttentionBias = c.Bool("attention_bias", false),
            PadTokenId = c.NullableInt("pad_token_id"),
            BosTokenId = c.NullableInt("bos_token_id"),
            EosTokenId = c.NullableInt("eos_token_id"),
        };
    }

    /// <summary>The architecture this configuration describes; a family adds its flags with <c>with</c>.</summary>
    internal virtual DecoderSpec ToSpec()
    {
        if (NumAttentionHeads <= 0 || HiddenSize % NumAttentionHeads != 0 && HeadDim is null)
        {
            throw new ArgumentException($"hidden_size ({HiddenSize}) must divide by num_attention_heads ({NumAttentionHeads}) unless head_dim is set.");
        }

        return new DecoderSpec { Config = this, Activation = Activation, AttentionScale = 1.0 / Math.Sqrt(HeadWidth) };
    }
}
