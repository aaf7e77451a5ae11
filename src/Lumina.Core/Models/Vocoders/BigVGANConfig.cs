using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.Vocoders;

/// <summary>
/// The generator hyper-parameters of a <see cref="BigVGAN"/> vocoder, named like the upstream <c>h</c> config
/// (<c>args.yml</c> / <c>config.json</c>): <c>num_mels</c>, <c>upsample_rates</c>, <c>resblock_kernel_sizes</c>, ...
/// </summary>
public sealed record BigVGANConfig
{
    /// <summary>Mel bins in (<c>num_mels</c>).</summary>
    public int NumMels { get; init; } = 80;

    /// <summary>Channels after <c>conv_pre</c> (<c>upsample_initial_channel</c>); halved by every upsampler.</summary>
    public int UpsampleInitialChannel { get; init; } = 512;

    /// <summary>Residual block kind (<c>resblock</c>): "1" (three rounds of two convolutions, the default) or "2" (two rounds of one); see AMPBlock.</summary>
    public string ResBlock { get; init; } = "1";

    /// <summary>Kernel of each parallel residual block (<c>resblock_kernel_sizes</c>).</summary>
    public IReadOnlyList<int> ResBlockKernelSizes { get; init; } = [3, 7, 11];

    /// <summary>Dilations of each parallel residual block (<c>resblock_dilation_sizes</c>).</summary>
    public IReadOnlyList<IReadOnlyList<int>> ResBlockDilationSizes { get; init; } = [[1, 3, 5], [1, 3, 5], [1, 3, 5]];

    /// <summary>Stride of each transposed-convolution upsampler (<c>upsample_rates</c>); their product is the hop size.</summary>
    public IReadOnlyList<int> UpsampleRates { get; init; } = [4, 4, 2, 2, 2, 2];

    /// <summary>Kernel of each upsampler (<c>upsample_kernel_sizes</c>).</summary>
    public IReadOnlyList<int> UpsampleKernelSizes { get; init; } = [8, 8, 4, 4, 4, 4];

    /// <summary>Periodic activation (<c>activation</c>): "snake" or "snakebeta".</summary>
    public string Activation { get; init; } = "snakebeta";

    /// <summary>Whether snake parameters are stored as logarithms (<c>snake_logscale</c>).</summary>
    public bool SnakeLogScale { get; init; } = true;

    /// <summary>Waveform samples per mel frame: the product of <see cref="UpsampleRates"/>.</summary>
    public int HopLength => UpsampleRates.Aggregate(1, (a, b) => a * b);

    /// <summary>Reads a BigVGAN <c>config.json</c> (the <c>h</c> dictionary); unknown keys such as training settings are ignored.</summary>
    /// <exception cref="LuminaException">The JSON is malformed or inconsistent.</exception>
    public static BigVGANConfig FromJson(string json, string source = "config.json") =>
        ConfigJson.Read(() => ConfigJson.Parse(json, source), source, c =>
        {
            var d = new BigVGANConfig();
            return new BigVGANConfig
            {
                NumMels = c.Int("num_mels", d.NumMels),
                UpsampleInitialChannel = c.Int("upsample_initial_channel", d.UpsampleInitialChannel),
                // Upstream configs spell the block kind as "1" or as 1.
                ResBlock = c["resblock"] is JsonValue r ? (r.TryGetValue<string>(out var s) ? s : r.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture)) : d.ResBlock,
                ResBlockKernelSizes = c.IntArray("resblock_kernel_sizes") ?? d.ResBlockKernelSizes,
                ResBlockDilationSizes = c["resblock_dilation_sizes"] is JsonArray dil
                    ? dil.Select(n => (IReadOnlyList<int>)(n as JsonArray ?? throw new FormatException("resblock_dilation_sizes must be a list of integer lists.")).Select(x => x!.GetValue<int>()).ToArray()).ToArray()
                    : d.ResBlockDilationSizes,
                UpsampleRates = c.IntArray("upsample_rates") ?? d.UpsampleRates,
                UpsampleKernelSizes = c.IntArray("upsample_kernel_sizes") ?? d.UpsampleKernelSizes,
                Activation = c.String("activation", d.Activation)!,
                SnakeLogScale = c.Bool("snake_logscale", d.SnakeLogScale),
            };
        }, config => config.Validate(source));

    /// <summary>Checks that the numbers describe a buildable generator.</summary>
    /// <exception cref="LuminaException">A field is inconsistent; the message names it.</exception>
    public void Validate(string source = "BigVGANConfig")
    {
        if (Activation is not ("snake" or "snakebeta"))
            throw new LuminaException($"{source}: activation '{Activation}' is not supported; use 'snake' or 'snakebeta'.");
        if (ResBlock is not ("1" or "2")) throw new LuminaException($"{source}: resblock '{ResBlock}' is not supported; use \"1\" or \"2\".");
        if (UpsampleRates.Count == 0 || UpsampleRates.Count != UpsampleKernelSizes.Count)
            throw new LuminaException($"{source}: upsample_rates ({UpsampleRates.Count}) and upsample_kernel_sizes ({UpsampleKernelSizes.Count}) must be non-empty and the same length.");
        if (ResBlockKernelSizes.Count == 0 || ResBlockKernelSizes.Count != ResBlockDilationSizes.Count)
            throw new LuminaException($"{source}: resblock_kernel_sizes ({ResBlockKernelSizes.Count}) and resblock_dilation_sizes ({ResBlockDilationSizes.Count}) must be non-empty and the same length.");
        var needed = ResBlock == "1" ? 3 : 2;
        if (ResBlockDilationSizes.Any(x => x.Count < needed))
            throw new LuminaException($"{source}: resblock \"{ResBlock}\" needs {needed} dilations per block.");
        if (NumMels <= 0 || UpsampleInitialChannel >> UpsampleRates.Count <= 0)
            throw new LuminaException($"{source}: num_mels must be positive and upsample_initial_channel ({UpsampleInitialChannel}) must survive {UpsampleRates.Count} halvings.");
        for (var i = 0; i < UpsampleRates.Count; i++)
            if (UpsampleRates[i] <= 0 || UpsampleKernelSizes[i] < UpsampleRates[i])
                throw new LuminaException($"{source}: upsampler {i} has rate {UpsampleRates[i]} and kernel {UpsampleKernelSizes[i]}; the kernel must be at least the rate.");
    }

    /// <inheritdoc />
    public bool Equals(BigVGANConfig? other) =>
        other is not null && NumMels == other.NumMels && UpsampleInitialChannel == other.UpsampleInitialChannel && ResBlock == other.ResBlock &&
        ResBlockKernelSizes.SequenceEqual(other.ResBlockKernelSizes) &&
        ResBlockDilationSizes.Count == other.ResBlockDilationSizes.Count &&
        ResBlockDilationSizes.Zip(other.ResBlockDilationSizes).All(p => p.First.SequenceEqual(p.Second)) &&
        UpsampleRates.SequenceEqual(other.UpsampleRates) && UpsampleKernelSizes.SequenceEqual(other.UpsampleKernelSizes) &&
        Activation == other.Activation && SnakeLogScale == other.SnakeLogScale;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(NumMels, UpsampleInitialChannel, ResBlock, Activation, SnakeLogScale, HopLength);
}
