using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The encoder or decoder trunk of a KL autoencoder, for the image VAE (diffusers <c>Encoder</c>/<c>Decoder</c>) and
/// the mel VAE (upstream <c>Encoder1D</c>/<c>Decoder1D</c>) alike: <c>conv_in</c>, the full-resolution stages and the
/// latent-resolution mid block (stages first in an encoder, mid first in a decoder), a GroupNorm + SiLU and
/// <c>conv_out</c>. The layouts differ only in names, which are the checkpoint keys: diffusers
/// <c>down_blocks</c>/<c>up_blocks</c>, <c>mid_block</c>, <c>conv_norm_out</c>; upstream <c>down</c>/<c>up</c>,
/// <c>mid</c>, <c>norm_out</c>. The upstream decoder runs its levels <c>up.i</c> from the deepest to level 0.
/// </summary>
internal sealed class VaeCoder : KeyedVaeModule
{
    private readonly nn.Module<Tensor, Tensor> _convIn;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _stages;
    private readonly int[] _stageOrder;
    private readonly nn.Module<Tensor, Tensor> _mid;
    private readonly nn.Module<Tensor, Tensor> _normOut;
    private readonly nn.Module<Tensor, Tensor> _convOut;
    private readonly bool _decoder;

    /// <summary>GroupNorm groups everywhere in the mel VAE (upstream hard-codes 32).</summary>
    private const int MelGroups = 32;

    private VaeCoder(string name, bool decoder, VaeLayout layout, nn.Module<Tensor, Tensor> convIn, IReadOnlyList<nn.Module<Tensor, Tensor>> stages,
        bool deepestFirst, nn.Module<Tensor, Tensor> mid, nn.Module<Tensor, Tensor> normOut, nn.Module<Tensor, Tensor> convOut) : base(name)
    {
        _decoder = decoder;
        _convIn = convIn;
        _stages = nn.ModuleList(stages.ToArray());
        _stageOrder = Enumerable.Range(0, stages.Count).ToArray();
        if (deepestFirst) Array.Reverse(_stageOrder);
        _mid = mid;
        _normOut = normOut;
        _convOut = convOut;
        // The parts are registered under their checkpoint names (not field names), in the order the trunk runs them.
        var diffusersKeys = layout == VaeLayout.Diffusers2D;
        var stagesKey = diffusersKeys ? (decoder ? "up_blocks" : "down_blocks") : (decoder ? "up" : "down");
        var midKey = diffusersKeys ? "mid_block" : "mid";
        register_module("conv_in", _convIn);
        if (decoder) register_module(midKey, _mid);
        register_module(stagesKey, _stages);
        if (!decoder) register_module(midKey, _mid);
        register_module(diffusersKeys ? "conv_norm_out" : "norm_out", _normOut);
        register_module("conv_out", _convOut);
    }

    /// <summary>The image VAE encoder: image channels → 2·latent channels (mean and log-variance).</summary>
    public static VaeCoder ImageEncoder(AutoencoderKLConfig config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var ch = config.BlockOutChannels;
        const VaeLayout layout = VaeLayout.Diffusers2D;
        var stages = ch.Select((output, i) => (nn.Module<Tensor, Tensor>)new VaeStage(layout, i == 0 ? ch[0] : ch[i - 1], output, config.LayersPerBlock, 3,
            config.NormNumGroups, attention: false, i < ch.Count - 1 ? VaeResample.Down : VaeResample.None, device, dtype)).ToArray();
        return new VaeCoder(nameof(ImageEncoder), decoder: false, layout,
            VaeConv.Same(2, config.InChannels, ch[0], 3, device, dtype), stages, deepestFirst: false,
            new VaeMidBlock(layout, ch[^1], 3, config.NormNumGroups, config.MidBlockAddAttention, device, dtype),
            new VaeGroupNorm(config.NormNumGroups, ch[^1], 1e-6, device, dtype),
            VaeConv.Same(2, ch[^1], 2 * config.LatentChannels, 3, device, dtype));
    }

    /// <summary>The image VAE decoder: latent channels → image channels; one more resnet per stage than the encoder.</summary>
    public static VaeCoder ImageDecoder(AutoencoderKLConfig config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var ch = config.BlockOutChannels.Reverse().ToArray();
        const VaeLayout layout = VaeLayout.Diffusers2D;
        var stages = ch.Select((output, i) => (nn.Module<Tensor, Tensor>)new VaeStage(layout, i == 0 ? ch[0] : ch[i - 1], output, config.LayersPerBlock + 1, 3,
            config.NormNumGroups, attention: false, i < ch.Length - 1 ? VaeResample.Up : VaeResample.None, device, dtype)).ToArray();
        return new VaeCoder(nameof(ImageDecoder), decoder: true, layout,
            VaeConv.Same(2, config.LatentChannels, ch[0], 3, device, dtype), stages, deepestFirst: false,
            new VaeMidBlock(layout, ch[0], 3, config.NormNumGroups, config.MidBlockAddAttention, device, dtype),
            new VaeGroupNorm(config.NormNumGroups, ch[^1], 1e-6, device, dtype),
            VaeConv.Same(2, ch[^1], config.OutChannels, 3, device, dtype));
    }

    /// <summary>
    /// The mel VAE encoder: levels <c>down.i</c> of num_res_blocks resnets (config kernel), attention where configured,
    /// a downsample at the configured levels; output 2·z channels.
    /// </summary>
    public static VaeCoder MelEncoder(AutoencoderKL1DConfig config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        int k = config.KernelSize, ch = config.Channels;
        var width = config.ChannelMultipliers.Select(m => ch * m).ToArray();
        const VaeLayout layout = VaeLayout.Upstream1D;
        var levels = width.Select((output, level) => (nn.Module<Tensor, Tensor>)new VaeStage(layout, level == 0 ? ch : width[level - 1], output,
            config.NumResBlocks, k, MelGroups, config.AttentionLevels.Contains(level),
            config.DownsampleLevels.Contains(level) ? VaeResample.Down : VaeResample.None, device, dtype)).ToArray();
        return new VaeCoder(nameof(MelEncoder), decoder: false, layout,
            VaeConv.Same(1, config.InChannels, ch, k, device, dtype), levels, deepestFirst: false,
            new VaeMidBlock(layout, width[^1], k, MelGroups, attention: true, device, dtype),
            new VaeGroupNorm(MelGroups, width[^1], 1e-6, device, dtype),
            VaeConv.Same(1, width[^1], 2 * config.ZChannels, k, device, dtype));
    }

    /// <summary>
    /// The mel VAE decoder: <c>conv_in</c>/<c>conv_out</c> with the config kernel, <c>mid</c> and the levels with kernel 3
    /// (upstream builds the decoder's resnets with their default kernel); level <c>up.i</c> has num_res_blocks + 1
    /// resnets and upsamples when level i − 1 of the encoder downsampled.
    /// </summary>
    public static VaeCoder MelDecoder(AutoencoderKL1DConfig config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        const int innerKernel = 3;
        int k = config.KernelSize, ch = config.Channels;
        var width = config.ChannelMultipliers.Select(m => ch * m).ToArray();
        const VaeLayout layout = VaeLayout.Upstream1D;
        var levels = width.Select((output, level) => (nn.Module<Tensor, Tensor>)new VaeStage(layout, level == width.Length - 1 ? width[^1] : width[level + 1], output,
            config.NumResBlocks + 1, innerKernel, MelGroups, config.AttentionLevels.Contains(level),
            config.DownsampleLevels.Any(d => d + 1 == level) ? VaeResample.Up : VaeResample.None, device, dtype)).ToArray();
        return new VaeCoder(nameof(MelDecoder), decoder: true, layout,
            VaeConv.Same(1, config.ZChannels, width[^1], k, device, dtype), levels, deepestFirst: true,
            new VaeMidBlock(layout, width[^1], innerKernel, MelGroups, attention: true, device, dtype),
            new VaeGroupNorm(MelGroups, width[0], 1e-6, device, dtype),
            VaeConv.Same(1, width[0], config.OutChannels, k, device, dtype));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = ForwardHead(x);
        var result = ForwardTail(h);
        h.Dispose();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>conv_in</c> and the first part: the stages in an encoder (so the result is at latent resolution with the
    /// stages' channels), the mid block in a decoder (still at latent resolution).
    /// </summary>
    internal Tensor ForwardHead(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = _convIn.forward(x);
        h = _decoder ? Chain.Step(h, x, _mid) : RunStages(h, x);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The second part (the mid block in an encoder, the stages in a decoder), then the norm, SiLU and <c>conv_out</c>.</summary>
    internal Tensor ForwardTail(Tensor h)
    {
        using var scope = NewDisposeScope();
        var x = _decoder ? RunStages(h, h) : Chain.Step(h, h, _mid);
        var normed = _normOut.forward(x);
        if (!ReferenceEquals(x, h)) x.Dispose();
        nn.functional.silu(normed, inplace: true);
        return _convOut.forward(normed).MoveToOuterDisposeScope();
    }

    private Tensor RunStages(Tensor current, Tensor input)
    {
        foreach (var i in _stageOrder) current = Chain.Step(current, input, _stages[i]);
        return current;
    }
}
