using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The 2-D VAE decoder (diffusers <c>Decoder</c>): <c>conv_in</c>, <c>mid_block</c>, <c>up_blocks.*</c>,
/// <c>conv_norm_out</c> + SiLU, <c>conv_out</c> to image channels.
/// </summary>
internal sealed class VaeDecoder : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv2d conv_in;
    private readonly VaeMidBlock2D mid_block;
    private readonly ModuleList<VaeStage2D> up_blocks;
    private readonly VaeGroupNorm conv_norm_out;
    private readonly Conv2d conv_out;
#pragma warning restore IDE1006

    /// <summary>Builds the decoder from a VAE config.</summary>
    /// <param name="config">The VAE config.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeDecoder(AutoencoderKLConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(VaeDecoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        var reversed = config.BlockOutChannels.Reverse().ToArray();
        conv_in = nn.Conv2d(config.LatentChannels, reversed[0], 3, padding: 1, device: device, dtype: dtype);
        mid_block = new VaeMidBlock2D(reversed[0], config.NormNumGroups, config.MidBlockAddAttention, device, dtype);
        up_blocks = nn.ModuleList<VaeStage2D>();
        var output = reversed[0];
        for (var i = 0; i < reversed.Length; i++)
        {
            var previous = output;
            output = reversed[i];
            up_blocks.Add(new VaeStage2D(previous, output, config.LayersPerBlock + 1, config.NormNumGroups, i < reversed.Length - 1 ? VaeResample.Up : VaeResample.None, device, dtype));
        }
        conv_norm_out = new VaeGroupNorm(config.NormNumGroups, reversed[^1], 1e-6, device, dtype);
        conv_out = nn.Conv2d(reversed[^1], config.OutChannels, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = ForwardMid(z);
        var result = ForwardUp(h);
        h.Dispose();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The latent-resolution part: <c>conv_in</c> and <c>mid_block</c> (with its attention).</summary>
    internal Tensor ForwardMid(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.forward(z);
        return Chain.Step(h, z, mid_block).MoveToOuterDisposeScope();
    }

    /// <summary>The upsampling part: <c>up_blocks</c>, <c>conv_norm_out</c> + SiLU and <c>conv_out</c>.</summary>
    internal Tensor ForwardUp(Tensor h)
    {
        using var scope = NewDisposeScope();
        var x = h;
        foreach (var block in up_blocks) x = Chain.Step(x, h, block);
        var normed = conv_norm_out.forward(x);
        if (!ReferenceEquals(x, h)) x.Dispose();
        nn.functional.silu(normed, inplace: true);
        return conv_out.forward(normed).MoveToOuterDisposeScope();
    }
}
