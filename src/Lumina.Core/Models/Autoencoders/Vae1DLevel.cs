using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// One level of the mel VAE encoder or decoder: resnets <c>block.j</c>, each followed by <c>attn.j</c> when the level
/// has attention, then <c>downsample</c> or <c>upsample</c> when the level resamples.
/// </summary>
internal sealed class Vae1DLevel : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly ModuleList<VaeResnetBlock> block;
    private readonly ModuleList<AttnBlock1D> attn;
    private readonly Resampler? downsample;
    private readonly Resampler? upsample;
#pragma warning restore IDE1006

    /// <summary>Builds the level.</summary>
    /// <param name="inChannels">Channels into the first resnet.</param>
    /// <param name="outChannels">Channels of every resnet output.</param>
    /// <param name="blocks">Resnets.</param>
    /// <param name="kernelSize">Resnet kernel.</param>
    /// <param name="attention">Whether each resnet is followed by attention.</param>
    /// <param name="resample">What happens to time at the end.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Vae1DLevel(int inChannels, int outChannels, int blocks, int kernelSize, bool attention, VaeResample resample,
        Device? device = null, ScalarType? dtype = null) : base(nameof(Vae1DLevel))
    {
        block = nn.ModuleList<VaeResnetBlock>();
        attn = nn.ModuleList<AttnBlock1D>();
        for (var j = 0; j < blocks; j++)
        {
            block.Add(new VaeResnetBlock(1, j == 0 ? inChannels : outChannels, outChannels, kernelSize, 32, ResnetShortcutKey.Nin, device, dtype));
            if (attention) attn.Add(new AttnBlock1D(outChannels, device, dtype));
        }
        if (resample == VaeResample.Down) downsample = new Resampler(1, resample, outChannels, device, dtype);
        if (resample == VaeResample.Up) upsample = new Resampler(1, resample, outChannels, device, dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (var j = 0; j < block.Count; j++)
        {
            h = block[j].forward(h);
            if (attn.Count > 0) h = attn[j].forward(h);
        }
        if (downsample is not null) h = downsample.forward(h);
        if (upsample is not null) h = upsample.forward(h);
        return (ReferenceEquals(h, x) ? x.alias() : h).MoveToOuterDisposeScope();
    }
}
