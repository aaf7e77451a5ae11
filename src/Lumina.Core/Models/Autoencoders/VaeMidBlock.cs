using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The latent-resolution middle of a VAE encoder or decoder: resnet, self-attention, resnet. Keys: diffusers
/// <c>UNetMidBlock2D</c> without a time embedding (<c>resnets.0</c>, <c>attentions.0</c>, <c>resnets.1</c>; the
/// attention is optional) with <see cref="VaeAttention"/>; upstream mel VAE <c>block_1</c>, <c>attn_1</c>, <c>block_2</c>
/// with <see cref="AttnBlock1D"/>.
/// </summary>
internal sealed class VaeMidBlock : KeyedVaeModule
{
    private readonly VaeResnetBlock _first;
    private readonly nn.Module<Tensor, Tensor>? _attention;
    private readonly VaeResnetBlock _second;

    /// <summary>Builds the block.</summary>
    /// <param name="layout">Which VAE (axes, attention kind and key names).</param>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="kernelSize">Resnet kernel.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="attention">Whether the self-attention sits between the two resnets.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeMidBlock(VaeLayout layout, int channels, int kernelSize, int groups, bool attention, Device? device = null, ScalarType? dtype = null)
        : base(nameof(VaeMidBlock))
    {
        _first = new VaeResnetBlock(layout, channels, channels, kernelSize, groups, device, dtype);
        _second = new VaeResnetBlock(layout, channels, channels, kernelSize, groups, device, dtype);
        if (layout == VaeLayout.Upstream1D)
        {
            _attention = attention ? new AttnBlock1D(channels, device, dtype) : throw new ArgumentException("The mel VAE mid block always has attention.", nameof(attention));
            register_module("block_1", _first);
            register_module("attn_1", _attention);
            register_module("block_2", _second);
            return;
        }
        if (attention)
        {
            _attention = new VaeAttention(channels, groups, channels, device, dtype);
            register_module("attentions", nn.ModuleList(_attention));
        }
        register_module("resnets", nn.ModuleList(_first, _second));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Chain.Step(x, x, _first);
        if (_attention is not null) h = Chain.Step(h, x, _attention);
        return Chain.Step(h, x, _second).MoveToOuterDisposeScope();
    }
}
