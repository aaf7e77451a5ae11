using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// One full-resolution stage of a VAE encoder or decoder: resnets, each followed by an attention block when the stage
/// has attention, then a down- or upsampler when the stage resamples. Keys: diffusers <c>DownEncoderBlock2D</c> /
/// <c>UpDecoderBlock2D</c> (<c>resnets.j</c>, <c>downsamplers.0</c> / <c>upsamplers.0</c>; no attention), upstream
/// mel VAE levels (<c>block.j</c>, <c>attn.j</c>, <c>downsample</c> / <c>upsample</c>).
/// </summary>
internal sealed class VaeStage : KeyedVaeModule
{
    private readonly ModuleList<VaeResnetBlock> _resnets;
    private readonly ModuleList<AttnBlock1D>? _attentions;
    private readonly Resampler? _resampler;

    /// <summary>Builds the stage.</summary>
    /// <param name="layout">Which VAE (axes and key names).</param>
    /// <param name="inChannels">Channels into the first resnet.</param>
    /// <param name="outChannels">Channels of every resnet output.</param>
    /// <param name="layers">Resnets.</param>
    /// <param name="kernelSize">Resnet kernel.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="attention">Whether each resnet is followed by attention (the mel VAE only).</param>
    /// <param name="resample">What happens to the resolution at the end.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeStage(VaeLayout layout, int inChannels, int outChannels, int layers, int kernelSize, int groups, bool attention, VaeResample resample,
        Device? device = null, ScalarType? dtype = null) : base(nameof(VaeStage))
    {
        var upstream = layout == VaeLayout.Upstream1D;
        if (attention && !upstream) throw new ArgumentException("Image VAE stages have no attention (AttnDownEncoderBlock2D is not supported).", nameof(attention));
        _resnets = nn.ModuleList(Enumerable.Range(0, layers)
            .Select(j => new VaeResnetBlock(layout, j == 0 ? inChannels : outChannels, outChannels, kernelSize, groups, device, dtype)).ToArray());
        register_module(upstream ? "block" : "resnets", _resnets);
        if (attention)
        {
            _attentions = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new AttnBlock1D(outChannels, device, dtype)).ToArray());
            register_module("attn", _attentions);
        }
        if (resample == VaeResample.None) return;
        _resampler = new Resampler(Dims(layout), resample, outChannels, device, dtype);
        var down = resample == VaeResample.Down;
        if (upstream) register_module(down ? "downsample" : "upsample", _resampler);
        else register_module(down ? "downsamplers" : "upsamplers", nn.ModuleList(_resampler));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (var j = 0; j < _resnets.Count; j++)
        {
            h = Chain.Step(h, x, _resnets[j]);
            if (_attentions is not null) h = Chain.Step(h, x, _attentions[j]);
        }
        if (_resampler is not null) h = Chain.Step(h, x, _resampler);
        return (ReferenceEquals(h, x) ? x.alias() : h).MoveToOuterDisposeScope();
    }
}
