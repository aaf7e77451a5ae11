using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The mel VAE encoder (upstream <c>Encoder1D</c>): <c>conv_in</c>, levels <c>down.i</c> (resnets <c>block.j</c>,
/// optional <c>attn.j</c>, optional <c>downsample</c>), <c>mid</c>, <c>norm_out</c> + SiLU, <c>conv_out</c> to 2·z channels.
/// </summary>
internal sealed class Encoder1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv1d conv_in;
    private readonly ModuleList<Vae1DLevel> down;
    private readonly Vae1DMidBlock mid;
    private readonly GroupNorm norm_out;
    private readonly Conv1d conv_out;
#pragma warning restore IDE1006

    /// <summary>Builds the encoder.</summary>
    /// <param name="config">The VAE config.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Encoder1D(AutoencoderKL1DConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(Encoder1D))
    {
        ArgumentNullException.ThrowIfNull(config);
        int k = config.KernelSize, ch = config.Channels;
        conv_in = nn.Conv1d(config.InChannels, ch, k, padding: k / 2, device: device, dtype: dtype);
        down = nn.ModuleList<Vae1DLevel>();
        var blockIn = ch;
        for (var level = 0; level < config.ChannelMultipliers.Count; level++)
        {
            var blockOut = ch * config.ChannelMultipliers[level];
            down.Add(new Vae1DLevel(blockIn, blockOut, config.NumResBlocks, k, config.AttentionLevels.Contains(level),
                config.DownsampleLevels.Contains(level) ? VaeResample.Down : VaeResample.None, device, dtype));
            blockIn = blockOut;
        }
        mid = new Vae1DMidBlock(blockIn, k, device, dtype);
        norm_out = nn.GroupNorm(32, blockIn, eps: 1e-6, device: device, dtype: dtype);
        conv_out = nn.Conv1d(blockIn, 2 * config.ZChannels, k, padding: k / 2, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(x);
        foreach (var level in down) h = level.forward(h);
        h = mid.forward(h);
        h = norm_out.forward(h);
        nn.functional.silu(h, inplace: true);
        return conv_out.forward(h).MoveToOuterDisposeScope();
    }
}
