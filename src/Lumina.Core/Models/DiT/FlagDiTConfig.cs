namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="FlagDiT"/> (upstream <c>DiT_Llama</c> in <c>lumina_t2i</c>). Defaults are the
/// released Lumina-T2I (FlagDiT-5B: 4 latent channels, dim 3072, 32 blocks, 32 heads without GQA, LLaMA-2-7B captions of
/// width 4096).
/// </summary>
public sealed record FlagDiTConfig : DiTConfig
{
    /// <summary>The released model's architecture.</summary>
    public FlagDiTConfig() : base(inChannels: 4, dim: 3072, layers: 32, heads: 32, kvHeads: null, captionDim: 4096)
    {
    }

    /// <summary>Predict 2·C channels and keep the first C.</summary>
    public bool LearnSigma { get; init; } = true;

    /// <summary>Default rope_scaling_factor: positions are divided by it.</summary>
    public double RopeScalingFactor { get; init; } = 1.0;

    /// <summary>Default ntk_factor: θ is multiplied by it.</summary>
    public double NtkFactor { get; init; } = 1.0;

    /// <summary>Upstream's rotary table length (40000 tokens, eol tokens included).</summary>
    public int MaxSequenceLength { get; init; } = 40000;

    /// <summary>Output channels of the final layer.</summary>
    public int OutChannels => LearnSigma ? 2 * InChannels : InChannels;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (HeadDim % 2 != 0) throw new ArgumentException($"1-D RoPE needs an even head width; Dim/Heads = {HeadDim}.");
        if (!(RopeScalingFactor > 0) || !(NtkFactor > 0)) throw new ArgumentException("RopeScalingFactor and NtkFactor must be positive.");
        if (MaxSequenceLength < 1) throw new ArgumentException($"MaxSequenceLength must be ≥ 1; got {MaxSequenceLength}.");
    }
}
