namespace Lumina.Models.TextEncoders;

/// <summary>
/// The architecture of a LLaMA-style decoder (LLaMA, Gemma, Gemma 2), as derived from a family config. One module tree
/// serves all three; the flags below are where they differ.
/// </summary>
internal sealed record DecoderSpec
{
    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumLayers { get; init; }

    public required int NumHeads { get; init; }

    public required int NumKeyValueHeads { get; init; }

    public required int HeadDim { get; init; }

    public required double RmsNormEps { get; init; }

    public required double RopeTheta { get; init; }

    /// <summary>Linear RoPE scaling factor (positions are divided by it); 1 = none.</summary>
    public double RopeLinearFactor { get; init; } = 1.0;

    public required string Activation { get; init; }

    /// <summary>Attention scores are multiplied by this (1/sqrt(head_dim), or Gemma 2's query_pre_attn_scalar^-0.5).</summary>
    public required double AttentionScale { get; init; }

    public bool AttentionBias { get; init; }

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

        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(IntermediateSize, "intermediate_size");
        Positive(NumLayers, "num_hidden_layers");
        Positive(NumHeads, "num_attention_heads");
        Positive(NumKeyValueHeads, "num_key_value_heads");
        Positive(HeadDim, "head_dim");
        if (NumHeads % NumKeyValueHeads != 0)
        {
            throw new ArgumentException($"num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads}).");
        }

        if (HeadDim % 2 != 0)
        {
            throw new ArgumentException($"head_dim must be even for rotary embeddings, got {HeadDim}.");
        }

        if (RmsNormEps <= 0 || RopeTheta <= 0 || RopeLinearFactor <= 0)
        {
            throw new ArgumentException("rms_norm_eps, rope_theta and the RoPE scaling factor must be positive.");
        }

        if (SlidingWindow is <= 0)
        {
            throw new ArgumentException($"sliding_window must be positive, got {SlidingWindow}.");
        }

        if (SlidingLayers is not null && SlidingLayers.Count != NumLayers)
        {
            throw new ArgumentException($"layer_types has {SlidingLayers.Count} entries for {NumLayers} layers.");
        }

        Activations.Validate(Activation);
    }
}
