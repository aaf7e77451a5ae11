using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The VAE residual block (diffusers <c>ResnetBlock2D</c> without a time embedding):
/// <c>x' + conv2(silu(norm2(conv1(silu(norm1(x))))))</c>, where x' is x, or <c>conv_shortcut(x)</c> (1×1) when the
/// channel count changes. GroupNorm eps is 1e-6. Intermediates are freed as soon as they are used, so peak memory stays
/// near three activations of the block's size.
/// </summary>
internal sealed class ResnetBlock2D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly VaeGroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly VaeGroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="inChannels">Channels in.</param>
    /// <param name="outChannels">Channels out.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="device">Where the parameters live (meta for counting).</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public ResnetBlock2D(int inChannels, int outChannels, int groups, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ResnetBlock2D))
    {
        norm1 = new VaeGroupNorm(groups, inChannels, 1e-6, device, dtype);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        norm2 = new VaeGroupNorm(groups, outChannels, 1e-6, device, dtype);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        if (inChannels != outChannels)
            conv_shortcut = nn.Conv2d(inChannels, outChannels, 1, device: device, dtype: dtype);
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
        if (conv_shortcut is null)
        {
            next.add_(x);
        }
        else
        {
            using var shortcut = conv_shortcut.forward(x);
            next.add_(shortcut);
        }
        return next.MoveToOuterDisposeScope();
    }
}
