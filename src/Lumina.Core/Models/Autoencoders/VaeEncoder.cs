using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The 2-D VAE encoder (diffusers <c>Encoder</c>): <c>conv_in</c>, <c>down_blocks.*</c>, <c>mid_block</c>,
/// <c>conv_norm_out</c> + SiLU, <c>conv_out</c> to 2·latent channels (mean and log-variance).
/// </summary>
internal sealed class VaeEncoder : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv2d conv_in;
    private readonly ModuleList<VaeStage2D> down_blocks;
    private readonly VaeMidBlock2D mid_block;
    private readonly VaeGroupNorm conv_norm_out;
    private readonly Conv2d conv_out;
#pragma warning restore IDE1006

    /// <summary>Builds the encoder from a VAE config.</summary>
    /// <param name="config">The VAE config.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeEncoder(AutoencoderKLConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(VaeEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        var ch = config.BlockOutChannels;
        conv_in = nn.Conv2d(config.InChannels, ch[0], 3, padding: 1, device: device, dtype: dtype);
        down_blocks = nn.ModuleList<VaeStage2D>();
        var output = ch[0];
        for (var i = 0; i < ch.Count; i++)
        {
            var input = output;
            output = ch[i];
            down_blocks.Add(new VaeStage2D(input, output, config.LayersPerBlock, config.NormNumGroups, i < ch.Count - 1 ? VaeResample.Down : VaeResample.None, device, dtype));
        }
        mid_block = new VaeMidBlock2D(ch[^1], config.NormNumGroups, config.MidBlockAddAttention, device, dtype);
        conv_norm_out = new VaeGroupNorm(config.NormNumGroups, ch[^1], 1e-6, device, dtype);
        conv_out = nn.Conv2d(ch[^1], 2 * config.LatentChannels, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = ForwardDown(x);
        var result = ForwardMid(h);
        h.Dispose();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The full-resolution part: <c>conv_in</c> and <c>down_blocks</c>.</summary>
    internal Tensor ForwardDown(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(x);
        foreach (var block in down_blocks) h = Chain.Step(h, x, block);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The latent-resolution part: <c>mid_block</c> (with its attention), <c>conv_norm_out</c> + SiLU, <c>conv_out</c>.</summary>
    internal Tensor ForwardMid(Tensor h)
    {
        using var scope = NewDisposeScope();
        var x = Chain.Step(h, h, mid_block);
        var normed = conv_norm_out.forward(x);
        x.Dispose();
        nn.functional.silu(normed, inplace: true);
        return conv_out.forward(normed).MoveToOuterDisposeScope();
    }
}
