namespace Lumina.Models.Autoencoders;

/// <summary>
/// The configuration of the 1-D mel <see cref="AutoencoderKL1D"/> of Lumina-T2Music / T2Audio, with the fields of the
/// upstream <c>first_stage_config</c> (<c>embed_dim</c> and the <c>ddconfig</c> entries).
/// </summary>
public sealed record AutoencoderKL1DConfig
{
    /// <summary>Latent channels the diffusion model sees (<c>embed_dim</c>).</summary>
    public int EmbedDim { get; init; } = 20;

    /// <summary>Mel bins going in (<c>in_channels</c>).</summary>
    public int InChannels { get; init; } = 80;

    /// <summary>Mel bins coming out (<c>out_ch</c>).</summary>
    public int OutChannels { get; init; } = 80;

    /// <summary>Channels between encoder/decoder and the quant convs (<c>z_channels</c>).</summary>
    public int ZChannels { get; init; } = 20;

    /// <summary>Kernel of the encoder convolutions and of the decoder's <c>conv_in</c>/<c>conv_out</c> (<c>kernel_size</c>).
    /// The decoder's resnets use kernel 3, as upstream.</summary>
    public int KernelSize { get; init; } = 5;

    /// <summary>Base channel count (<c>ch</c>).</summary>
    public int Channels { get; init; } = 384;

    /// <summary>Channel multiplier per level (<c>ch_mult</c>).</summary>
    public IReadOnlyList<int> ChannelMultipliers { get; init; } = [1, 2, 4];

    /// <summary>Resnet blocks per encoder level (<c>num_res_blocks</c>); decoder levels have one more.</summary>
    public int NumResBlocks { get; init; } = 2;

    /// <summary>Levels whose blocks are each followed by self-attention (<c>attn_layers</c>).</summary>
    public IReadOnlyList<int> AttentionLevels { get; init; } = [3];

    /// <summary>Levels that halve the time axis at their end (<c>down_layers</c>); the decoder doubles at level+1.</summary>
    public IReadOnlyList<int> DownsampleLevels { get; init; } = [0];

    /// <summary>Time frames per latent frame: 2^(number of downsampling levels).</summary>
    public int DownscaleFactor => 1 << DownsampleLevels.Count;

    /// <summary>The Lumina-T2Music VAE (<c>lumina_music/configs/lumina-text2music.yaml</c>): 80 mel bins → 20 latent
    /// channels, time /2, ch 384 × (1, 2, 4), 2 resnets per level, kernel 5, no level attention.</summary>
    public static AutoencoderKL1DConfig LuminaMusic { get; } = new();

    /// <summary>Checks that the numbers describe a buildable model.</summary>
    /// <exception cref="LuminaException">A field is out of range; the message names it.</exception>
    public void Validate()
    {
        if (ChannelMultipliers.Count == 0) throw new LuminaException("AutoencoderKL1DConfig: ch_mult is empty.");
        if (EmbedDim <= 0 || InChannels <= 0 || OutChannels <= 0 || ZChannels <= 0 || Channels <= 0 || NumResBlocks <= 0)
            throw new LuminaException("AutoencoderKL1DConfig: embed_dim, in_channels, out_ch, z_channels, ch and num_res_blocks must be positive.");
        if (KernelSize <= 0 || KernelSize % 2 == 0) throw new LuminaException($"AutoencoderKL1DConfig: kernel_size must be odd and positive, got {KernelSize}.");
        foreach (var m in ChannelMultipliers)
            if (m <= 0 || Channels * m % 32 != 0)
                throw new LuminaException($"AutoencoderKL1DConfig: ch × ch_mult entry ({Channels} × {m}) must be positive and divisible by 32 (GroupNorm groups).");
        if (Channels % 32 != 0) throw new LuminaException($"AutoencoderKL1DConfig: ch {Channels} must be divisible by 32 (GroupNorm groups).");
        foreach (var d in DownsampleLevels)
            if (d < 0 || d >= ChannelMultipliers.Count)
                throw new LuminaException($"AutoencoderKL1DConfig: down_layers entry {d} is not a level (0..{ChannelMultipliers.Count - 1}).");
    }

    /// <inheritdoc />
    public bool Equals(AutoencoderKL1DConfig? other) =>
        other is not null && EmbedDim == other.EmbedDim && InChannels == other.InChannels && OutChannels == other.OutChannels &&
        ZChannels == other.ZChannels && KernelSize == other.KernelSize && Channels == other.Channels &&
        ChannelMultipliers.SequenceEqual(other.ChannelMultipliers) && NumResBlocks == other.NumResBlocks &&
        AttentionLevels.SequenceEqual(other.AttentionLevels) && DownsampleLevels.SequenceEqual(other.DownsampleLevels);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(EmbedDim, InChannels, OutChannels, ZChannels, KernelSize, Channels, NumResBlocks);
}
