namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="MusicDiT"/> (upstream <c>FlagDiTv2</c> in <c>lumina_music</c>/<c>lumina_audio</c>).
/// Defaults are the released Lumina-T2Music model: 20 mel-latent channels, width 768 (upstream <c>hidden_size</c>), 16
/// blocks (<c>depth</c>), 32 heads, FLAN-T5-large context of width 1024 (<c>context_dim</c>, here
/// <see cref="DiTConfig.CaptionDim"/>), no patching and no QK-norm.
/// </summary>
public sealed record MusicDiTConfig : DiTConfig
{
    /// <summary>The released model's architecture.</summary>
    public MusicDiTConfig() : base(inChannels: 20, dim: 768, layers: 16, heads: 32, kvHeads: null, captionDim: 1024)
    {
        PatchSize = 1;
        QkNorm = false;
    }

    /// <summary>Length of the rotary table: the longest latent sequence in frames (1000).</summary>
    public int MaxLength { get; init; } = 1000;

    /// <summary>The adaLN conditioning is as wide as the model (upstream).</summary>
    public override int ConditionDim => Dim;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (PatchSize != 1) throw new ArgumentException($"The music DiT runs over frames and does not patch; PatchSize must be 1, got {PatchSize}.");
        if (HeadDim % 2 != 0) throw new ArgumentException($"1-D RoPE needs an even head width; Dim/Heads = {HeadDim}.");
        if (MaxLength < 1) throw new ArgumentException($"MaxLength must be ≥ 1; got {MaxLength}.");
    }
}
