namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="FlagDiT"/> (upstream <c>DiT_Llama</c> in <c>lumina_t2i</c>). Defaults are the
/// released Lumina-T2I (FlagDiT-5B).
/// </summary>
public sealed record FlagDiTConfig : IDiTConfig
{
    /// <summary>Patch size p (2).</summary>
    public int PatchSize { get; init; } = 2;

    /// <summary>Latent channels (4).</summary>
    public int InChannels { get; init; } = 4;

    /// <summary>Model width (3072).</summary>
    public int Dim { get; init; } = 3072;

    /// <summary>Number of blocks (32).</summary>
    public int Layers { get; init; } = 32;

    /// <summary>Query heads (32).</summary>
    public int Heads { get; init; } = 32;

    /// <summary>KV heads (null = no GQA).</summary>
    public int? KvHeads { get; init; }

    /// <summary>FFN rounding (256).</summary>
    public int MultipleOf { get; init; } = 256;

    /// <summary>Optional FFN multiplier.</summary>
    public double? FfnDimMultiplier { get; init; }

    /// <summary>RMSNorm epsilon (1e-5).</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Predict 2·C channels and keep the first C.</summary>
    public bool LearnSigma { get; init; } = true;

    /// <summary>Joint-width LayerNorm QK-norm.</summary>
    public bool QkNorm { get; init; } = true;

    /// <summary>Caption width (4096 for LLaMA-2-7B).</summary>
    public int CaptionDim { get; init; } = 4096;

    /// <summary>Default rope_scaling_factor: positions are divided by it.</summary>
    public double RopeScalingFactor { get; init; } = 1.0;

    /// <summary>Default ntk_factor: θ is multiplied by it.</summary>
    public double NtkFactor { get; init; } = 1.0;

    /// <summary>RoPE base θ (10000).</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Upstream's rotary table length (40000 tokens, eol tokens included).</summary>
    public int MaxSequenceLength { get; init; } = 40000;

    /// <summary>Output channels of the final layer.</summary>
    public int OutChannels => LearnSigma ? 2 * InChannels : InChannels;

    /// <summary>Width of one head.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (PatchSize < 1) throw new ArgumentException($"PatchSize must be ≥ 1; got {PatchSize}.");
        if (InChannels < 1) throw new ArgumentException($"InChannels must be ≥ 1; got {InChannels}.");
        if (Heads < 1 || Dim % Heads != 0) throw new ArgumentException($"Dim ({Dim}) must be a multiple of Heads ({Heads}).");
        if (HeadDim % 2 != 0) throw new ArgumentException($"1-D RoPE needs an even head width; Dim/Heads = {HeadDim}.");
        var kv = KvHeads ?? Heads;
        if (kv < 1 || Heads % kv != 0) throw new ArgumentException($"KvHeads ({kv}) must divide Heads ({Heads}).");
        if (CaptionDim < 1) throw new ArgumentException($"CaptionDim must be ≥ 1; got {CaptionDim}.");
        if (!(RopeScalingFactor > 0) || !(NtkFactor > 0)) throw new ArgumentException("RopeScalingFactor and NtkFactor must be positive.");
        if (MaxSequenceLength < 1) throw new ArgumentException($"MaxSequenceLength must be ≥ 1; got {MaxSequenceLength}.");
    }
}
