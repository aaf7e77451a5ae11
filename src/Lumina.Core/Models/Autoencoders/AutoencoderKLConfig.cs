using Lumina.IO;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The constructor configuration of a 2-D <see cref="AutoencoderKL"/>, with the field names of a diffusers
/// <c>vae/config.json</c>. Use <see cref="FromJson"/> for a downloaded config, or a preset such as <see cref="SdxlVae"/>.
/// </summary>
public sealed record AutoencoderKLConfig
{
    /// <summary>Image channels going in (<c>in_channels</c>, 3 for RGB).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Image channels coming out (<c>out_channels</c>).</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary>Output channels of each encoder block, first to last (<c>block_out_channels</c>). Decoder mirrors it.</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = [64];

    /// <summary>Resnet layers per encoder block (<c>layers_per_block</c>); decoder blocks have one more.</summary>
    public int LayersPerBlock { get; init; } = 1;

    /// <summary>Latent channels (<c>latent_channels</c>).</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary>GroupNorm groups (<c>norm_num_groups</c>).</summary>
    public int NormNumGroups { get; init; } = 32;

    /// <summary>The training image size in pixels (<c>sample_size</c>); it sets the default tile size.</summary>
    public int SampleSize { get; init; } = 32;

    /// <summary>Latent scaling factor (<c>scaling_factor</c>): model latents are <c>(z - shift) * scale</c>.</summary>
    public double ScalingFactor { get; init; } = 0.18215;

    /// <summary>Latent shift (<c>shift_factor</c>, SD3/Flux style); null means no shift.</summary>
    public double? ShiftFactor { get; init; }

    /// <summary>Whether the encoder output goes through <c>quant_conv</c> (<c>use_quant_conv</c>).</summary>
    public bool UseQuantConv { get; init; } = true;

    /// <summary>Whether latents go through <c>post_quant_conv</c> before decoding (<c>use_post_quant_conv</c>).</summary>
    public bool UsePostQuantConv { get; init; } = true;

    /// <summary>Whether encoder and decoder mid blocks carry self-attention (<c>mid_block_add_attention</c>).</summary>
    public bool MidBlockAddAttention { get; init; } = true;

    /// <summary>How many pixels one latent cell covers along each axis: 2^(blocks − 1).</summary>
    public int DownscaleFactor => 1 << (BlockOutChannels.Count - 1);

    /// <summary>
    /// The VAE of <c>stabilityai/sdxl-vae</c> (used by Lumina-T2I and Lumina-Next): 4 blocks (128, 256, 512, 512),
    /// 2 layers per block, 32 groups, scaling factor 0.13025, trained at 1024 px.
    /// </summary>
    public static AutoencoderKLConfig SdxlVae { get; } = new()
    {
        BlockOutChannels = [128, 256, 512, 512],
        LayersPerBlock = 2,
        LatentChannels = 4,
        NormNumGroups = 32,
        SampleSize = 1024,
        ScalingFactor = 0.13025,
    };

    /// <summary>
    /// The FLUX VAE (<c>black-forest-labs/FLUX.1-dev</c> <c>vae/</c>), which Lumina-Image 2.0 uses: the SDXL architecture
    /// with 16 latent channels and no <c>quant_conv</c>/<c>post_quant_conv</c>; scaling factor 0.3611, shift factor 0.1159
    /// (model latents are <c>(z − 0.1159) · 0.3611</c>), trained at 1024 px. 83,819,683 parameters in 244 tensors.
    /// </summary>
    public static AutoencoderKLConfig FluxVae { get; } = SdxlVae with
    {
        LatentChannels = 16,
        ScalingFactor = 0.3611,
        ShiftFactor = 0.1159,
        UseQuantConv = false,
        UsePostQuantConv = false,
    };

    /// <summary>The Stable Diffusion 1.x VAE: the SDXL architecture with scaling factor 0.18215, trained at 512 px.</summary>
    public static AutoencoderKLConfig StableDiffusion1Vae { get; } = SdxlVae with { SampleSize = 512, ScalingFactor = 0.18215 };

    /// <summary>Reads a diffusers <c>vae/config.json</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="LuminaException">The JSON is not a supported AutoencoderKL config.</exception>
    public static AutoencoderKLConfig FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No VAE config at '{path}'. Pass the path of a diffusers vae/config.json.", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a diffusers <c>vae/config.json</c>. Unknown keys (such as <c>_class_name</c>) are ignored.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Where it came from, for error messages.</param>
    /// <exception cref="LuminaException">The JSON is malformed or describes an unsupported variant.</exception>
    public static AutoencoderKLConfig FromJson(string json, string source = "config.json") =>
        ConfigJson.Read(() => ConfigJson.Parse(json, source), source, c => Read(c, source), config => config.Validate(source));

    private static AutoencoderKLConfig Read(ConfigJson c, string source)
    {
        var defaults = new AutoencoderKLConfig();
        var blocks = c.IntArray("block_out_channels") ?? defaults.BlockOutChannels;
        CheckBlockTypes(c, "down_block_types", "DownEncoderBlock2D", blocks.Count, source);
        CheckBlockTypes(c, "up_block_types", "UpDecoderBlock2D", blocks.Count, source);
        var act = c.String("act_fn", null);
        if (act is not null && act != "silu")
            throw new LuminaException($"{source}: act_fn '{act}' is not supported; only 'silu' (every released SD/SDXL VAE) is.");
        return new AutoencoderKLConfig
        {
            InChannels = c.Int("in_channels", defaults.InChannels),
            OutChannels = c.Int("out_channels", defaults.OutChannels),
            BlockOutChannels = blocks,
            LayersPerBlock = c.Int("layers_per_block", defaults.LayersPerBlock),
            LatentChannels = c.Int("latent_channels", defaults.LatentChannels),
            NormNumGroups = c.Int("norm_num_groups", defaults.NormNumGroups),
            // diffusers writes sample_size as an integer or as [height, width].
            SampleSize = c.IntArray("sample_size") is [var first, ..] ? first : c.Int("sample_size", defaults.SampleSize),
            ScalingFactor = c.Double("scaling_factor", defaults.ScalingFactor),
            ShiftFactor = c.NullableDouble("shift_factor"),
            UseQuantConv = c.Bool("use_quant_conv", true),
            UsePostQuantConv = c.Bool("use_post_quant_conv", true),
            MidBlockAddAttention = c.Bool("mid_block_add_attention", true),
        };
    }

    /// <summary>Checks that the numbers describe a buildable model.</summary>
    /// <exception cref="LuminaException">A field is out of range; the message names it.</exception>
    public void Validate(string source = "AutoencoderKLConfig")
    {
        if (BlockOutChannels.Count == 0) throw new LuminaException($"{source}: block_out_channels is empty; it needs at least one block.");
        if (InChannels <= 0 || OutChannels <= 0 || LatentChannels <= 0 || LayersPerBlock <= 0 || NormNumGroups <= 0 || SampleSize <= 0)
            throw new LuminaException($"{source}: in_channels, out_channels, latent_channels, layers_per_block, norm_num_groups and sample_size must be positive.");
        foreach (var c in BlockOutChannels)
            if (c <= 0 || c % NormNumGroups != 0)
                throw new LuminaException($"{source}: block_out_channels entry {c} must be positive and divisible by norm_num_groups {NormNumGroups}.");
        if (!(ScalingFactor > 0) || double.IsInfinity(ScalingFactor)) throw new LuminaException($"{source}: scaling_factor must be a positive finite number, got {ScalingFactor}.");
    }

    private static void CheckBlockTypes(ConfigJson c, string key, string expected, int count, string source)
    {
        if (c.StringList(key) is not { } types) return;
        if (types.Count != count)
            throw new LuminaException($"{source}: {key} has {types.Count} entries but block_out_channels has {count}; they must match.");
        foreach (var type in types)
            if (type != expected)
                throw new LuminaException($"{source}: {key} entry '{type}' is not supported; only {expected} (the SD/SDXL VAE blocks) is.");
    }

    /// <inheritdoc />
    public bool Equals(AutoencoderKLConfig? other) =>
        other is not null && InChannels == other.InChannels && OutChannels == other.OutChannels &&
        BlockOutChannels.SequenceEqual(other.BlockOutChannels) && LayersPerBlock == other.LayersPerBlock &&
        LatentChannels == other.LatentChannels && NormNumGroups == other.NormNumGroups && SampleSize == other.SampleSize &&
        ScalingFactor == other.ScalingFactor && ShiftFactor == other.ShiftFactor && UseQuantConv == other.UseQuantConv &&
        UsePostQuantConv == other.UsePostQuantConv && MidBlockAddAttention == other.MidBlockAddAttention;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(InChannels, OutChannels, BlockOutChannels.Count, LayersPerBlock, LatentChannels, SampleSize, ScalingFactor, ShiftFactor);
}
