using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>One encoder stage: <c>resnets.*</c>, then (except in the last stage) <c>downsamplers.0</c>.</summary>
internal sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly ModuleList<ResnetBlock2D> resnets;
    private readonly ModuleList<Downsample2D>? downsamplers;
#pragma warning restore IDE1006

    /// <summary>Builds the stage.</summary>
    /// <param name="inChannels">Channels in.</param>
    /// <param name="outChannels">Channels out.</param>
    /// <param name="layers">Resnet blocks.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="addDownsample">Whether the stage halves the resolution at its end.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public DownEncoderBlock2D(int inChannels, int outChannels, int layers, int groups, bool addDownsample, Device? device = null, ScalarType? dtype = null)
        : base(nameof(DownEncoderBlock2D))
    {
        resnets = nn.ModuleList<ResnetBlock2D>();
        for (var i = 0; i < layers; i++)
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, groups, device, dtype));
        if (addDownsample) downsamplers = nn.ModuleList(new Downsample2D(outChannels, device, dtype));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var block in resnets) h = Chain.Step(h, x, block);
        if (downsamplers is not null) h = Chain.Step(h, x, downsamplers[0]);
        return (ReferenceEquals(h, x) ? x.alias() : h).MoveToOuterDisposeScope();
    }
}
