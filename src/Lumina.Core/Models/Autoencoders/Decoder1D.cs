using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The mel VAE decoder (upstream <c>Decoder1D</c>): <c>conv_in</c> (config kernel), <c>mid</c> (kernel 3), levels
/// <c>up.i</c> run from the deepest to level 0 (num_res_blocks + 1 kernel-3 resnets, optional attention, optional
/// <c>upsample</c> at downsampled level + 1), <c>norm_out</c> + SiLU, <c>conv_out</c> (config kernel).
/// </summary>
internal sealed class Decoder1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv1d conv_in;
    private readonly Vae1DMidBlock mid;
    private readonly ModuleList<Vae1DLevel> up;
    private readonly GroupNorm norm_out;
    private readonly Conv1d conv_out;
#pragma warning restore IDE1006

    /// <summary>Builds the decoder.</summary>
    /// <param name="config">The VAE config.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Decoder1D(AutoencoderKL1DConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(Decoder1D))
    {
        ArgumentNullException.ThrowIfNull(config);
        const int innerKernel = 3; // upstream builds the decoder's resnets with their default kernel
        int k = config.KernelSize, ch = config.Channels, levels = config.ChannelMultipliers.Count;
        var blockIn = ch * config.ChannelMultipliers[^1];
        conv_in = nn.Conv1d(config.ZChannels, blockIn, k, padding: k / 2, device: device, dtype: dtype);
        mid = new Vae1DMidBlock(blockIn, innerKernel, device, dtype);
        var built = new Vae1DLevel[levels];
        for (var level = levels - 1; level >= 0; level--)
        {
            var blockOut = ch * config.ChannelMultipliers[level];
            var upsamples = config.DownsampleLevels.Any(d => d + 1 == level);
            built[level] = new Vae1DLevel(blockIn, blockOut, config.NumResBlocks + 1, innerKernel, config.AttentionLevels.Contains(level),
                upsamples ? VaeResample.Up : VaeResample.None, device, dtype);
            blockIn = blockOut;
        }
        up = nn.ModuleList(built);
        norm_out = nn.GroupNorm(32, blockIn, eps: 1e-6, device: device, dtype: dtype);
        conv_out = nn.Conv1d(blockIn, config.OutChannels, k, padding: k / 2, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(z);
        h = mid.forward(h);
        for (var level = up.Count - 1; level >= 0; level--) h = up[level].forward(h);
        h = norm_out.forward(h);
        nn.functional.silu(h, inplace: true);
        return conv_out.forward(h).MoveToOuterDisposeScope();
    }
}
