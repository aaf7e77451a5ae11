namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="MusicDiT"/> (upstream <c>FlagDiTv2</c> in <c>lumina_music</c>/<c>lumina_audio</c>).
/// Defaults are the released Lumina-T2Music model.
/// </summary>
public sealed record MusicDiTConfig : IDiTConfig
{
    /// <summary>Mel-latent channels (20).</summary>
    public int InChannels { get; init; } = 20;

    /// <summary>Context (text-encoder) width (1024 for FLAN-T5-large).</summary>
    public int ContextDim { get; init; } = 1024;

    /// <summary>Model width (768).</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Number of blocks (16).</summary>
    public int Depth { get; init; } = 16;

    /// <summary>Attention heads (32).</summary>
    public int Heads { get; init; } = 32;

    /// <summary>Length of the rotary table: the longest latent sequence in frames (1000).</summary>
    public int MaxLength { get; init; } = 1000;

    /// <summary>FFN rounding (256, fixed upstream).</summary>
    public int MultipleOf { get; init; } = 256;

    /// <summary>RMSNorm epsilon (1e-5).</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>RoPE base θ (10000).</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Width of one head.</summary>
    public int HeadDim => HiddenSize / Heads;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (InChannels < 1) throw new ArgumentException($"InChannels must be ≥ 1; got {InChannels}.");
        if (Heads < 1 || HiddenSize % Heads != 0) throw new ArgumentException($"HiddenSize ({HiddenSize}) must be a multiple of Heads ({Heads}).");
        if (HeadDim % 2 != 0) throw new ArgumentException($"1-D RoPE needs an even head width; HiddenSize/Heads = {HeadDim}.");
        if (ContextDim < 1) throw new ArgumentException($"ContextDim must be ≥ 1; got {ContextDim}.");
        if (MaxLength < 1) throw new ArgumentException($"MaxLength must be ≥ 1; got {MaxLength}.");
    }
}
