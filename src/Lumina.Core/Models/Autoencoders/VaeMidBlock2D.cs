using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The VAE mid block (diffusers <c>UNetMidBlock2D</c> without a time embedding): <c>resnets.0</c>, then for each
/// attention <c>attentions.i</c> followed by <c>resnets.i+1</c>.
/// </summary>
internal sealed class VaeMidBlock2D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly ModuleList<VaeAttention>? attentions;
    private readonly ModuleList<VaeResnetBlock> resnets;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="addAttention">Whether the self-attention sits between the two resnets.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeMidBlock2D(int channels, int groups, bool addAttention, Device? device = null, ScalarType? dtype = null)
        : base(nameof(VaeMidBlock2D))
    {
        resnets = nn.ModuleList(Enumerable.Range(0, 2).Select(_ => new VaeResnetBlock(2, channels, channels, 3, groups, ResnetShortcutKey.Conv, device, dtype)).ToArray());
        if (addAttention) attentions = nn.ModuleList(new VaeAttention(channels, groups, channels, device, dtype));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Chain.Step(x, x, resnets[0]);
        if (attentions is not null) h = Chain.Step(h, x, attentions[0]);
        return Chain.Step(h, x, resnets[1]).MoveToOuterDisposeScope();
    }
}
