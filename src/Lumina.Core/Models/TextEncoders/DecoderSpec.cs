namespace Lumina.Models.TextEncoders;

/// <summary>
/// The architecture of a LLaMA-style decoder (LLaMA, Gemma, Gemma 2): its family config (the sizes) plus what the family
/// decides beyond them. One module tree serves all three; the flags below are where they differ.
/// </summary>
internal sealed record DecoderSpec
{
    /// <summary>The family config: sizes, heads, eps, RoPE base, attention bias.</summary>
    public required DecoderTextConfig Config { get; init; }

    /// <summary>Linear RoPE scaling factor (positions are divided by it); 1 = none.</summary>
    public double RopeLinearFactor { get; init; } = 1.0;

    public required string Activation { get; init; }

    /// <summary>Attention scores are multiplied by this (1/sqrt(head_dim), or Gemma 2's query_pre_attn_scalar^-0.5).</summary>
    public required double AttentionScale { get; init; }

    public bool MlpBias { get; init; }

    /// <summary>Gemma: RMSNorm computes <c>x̂·(1+w)</c> in fp32 and casts; LLaMA casts then multiplies by <c>w</c>.</summary>
    public bool NormUnitOffset { get; init; }

    /// <summary>Gemma: embeddings are multiplied by sqrt(hidden) in the model dtype.</summary>
    public bool ScaleEmbeddings { get; init; }

    /// <summary>Gemma 2: norms after attention and around the MLP (pre/post feed-forward).</summary>
    public bool SandwichNorms { get; init; }

    /// <summary>Gemma 2: <c>cap·tanh(scores/cap)</c> on attention logits; null = off.</summary>
    public double? AttentionLogitSoftcap { get; init; }

    /// <summary>Gemma 2: sliding window (in tokens) of the layers marked in <see cref="SlidingLayers"/>.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Per layer: whether it uses the sliding window. Null = none does.</summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }

    public bool IsSliding(int layer) => SlidingWindow is not null && SlidingLayers is not null && SlidingLayers[layer];

    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0)
            {
                throw new ArgumentException($"{name} must be positive, got {value}.");
            }
        }

        var c = Config;
        Positive(c.VocabSize, "vocab_size");
        Positive(c.HiddenSize, "hidden_size");
        Positive(c.IntermediateSize, "intermediate_size");
        Positive(c.NumHiddenLayers, "num_hidden_layers");
        Positive(c.NumAttentionHeads, "num_attention_heads");
        Positive(c.KeyValueHeadCount, "num_key_value_heads");
        Positive(c.HeadWidth, "head_dim");
        if (c.NumAttentionHeads % c.KeyValueHeadCount != 0)
        {
            throw new ArgumentException($"num_attention_heads ({c.NumAttentionHeads}) must be a multiple of num_key_value_heads ({c.KeyValueHeadCount}).");
        }

        if (c.HeadWidth % 2 != 0)
        {
            throw new ArgumentException($"head_dim must be even for rotary embeddings, got {c.HeadWidth}.");
        }

        if (c.RmsNormEps <= 0 || c.RopeTheta <= 0 || RopeLinearFactor <= 0)
        {
            throw new ArgumentException("rms_norm_eps, rope_theta and the RoPE scaling factor must be positive.");
        }

        if (SlidingWindow is <= 0)
        {
            throw new ArgumentException($"sliding_window must be positive, got {SlidingWindow}.");
        }

        if (SlidingLayers is not null && SlidingLayers.Count != c.NumHiddenLayers)
        {
            throw new ArgumentException($"layer_types has {SlidingLayers.Count} entries for {c.NumHiddenLayers} layers.");
        }

        Activations.Validate(Activation);
    }
}
