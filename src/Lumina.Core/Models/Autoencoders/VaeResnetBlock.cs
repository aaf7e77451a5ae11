using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The VAE residual block without a time embedding, over (B, C, T) or (B, C, H, W) (upstream <c>ResnetBlock1D</c>,
/// diffusers <c>ResnetBlock2D</c>): <c>x' + conv2(silu(norm2(conv1(silu(norm1(x))))))</c>, where x' is x, or the 1×1
/// shortcut of x when the channel count changes. GroupNorm eps is 1e-6. Intermediates are freed as soon as they are
/// used, so peak memory stays near three activations of the block's size.
/// </summary>
internal sealed class VaeResnetBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly VaeGroupNorm norm1;
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly VaeGroupNorm norm2;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor>? nin_shortcut;
    private readonly nn.Module<Tensor, Tensor>? conv_shortcut;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="layout">Which VAE: the image VAE's 2-D convolutions and <c>conv_shortcut</c>, or the mel VAE's 1-D ones and <c>nin_shortcut</c>.</param>
    /// <param name="inChannels">Channels in.</param>
    /// <param name="outChannels">Channels out.</param>
    /// <param name="kernelSize">Odd kernel of both convolutions ("same" padding).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="device">Where the parameters live (meta for counting).</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeResnetBlock(VaeLayout layout, int inChannels, int outChannels, int kernelSize, int groups,
        Device? device = null, ScalarType? dtype = null) : base(nameof(VaeResnetBlock))
    {
        var dims = layout == VaeLayout.Diffusers2D ? 2 : 1;
        norm1 = new VaeGroupNorm(groups, inChannels, 1e-6, device, dtype);
        conv1 = VaeConv.Same(dims, inChannels, outChannels, kernelSize, device, dtype);
        norm2 = new VaeGroupNorm(groups, outChannels, 1e-6, device, dtype);
        conv2 = VaeConv.Same(dims, outChannels, outChannels, kernelSize, device, dtype);
        if (inChannels != outChannels)
        {
            var shortcut = VaeConv.Create(dims, inChannels, outChannels, 1, device: device, dtype: dtype);
            if (layout == VaeLayout.Upstream1D) nin_shortcut = shortcut;
            else conv_shortcut = shortcut;
        }
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = norm1.forward(x);
        nn.functional.silu(h, inplace: true);
        var next = conv1.forward(h);
        h.Dispose();
        h = norm2.forward(next);
        next.Dispose();
        nn.functional.silu(h, inplace: true);
        next = conv2.forward(h);
        h.Dispose();
        var shortcut = nin_shortcut ?? conv_shortcut;
        if (shortcut is null)
        {
            next.add_(x);
        }
        else
        {
            using var projected = shortcut.forward(x);
            next.add_(projected);
        }
        return next.MoveToOuterDisposeScope();
    }
}
