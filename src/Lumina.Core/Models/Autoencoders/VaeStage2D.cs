using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// One stage of the image VAE (diffusers <c>DownEncoderBlock2D</c> / <c>UpDecoderBlock2D</c>): <c>resnets.*</c>, then,
/// except in the last stage, <c>downsamplers.0</c> (encoder) or <c>upsamplers.0</c> (decoder).
/// </summary>
internal sealed class VaeStage2D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly ModuleList<VaeResnetBlock> resnets;
    private readonly ModuleList<Resampler>? downsamplers;
    private readonly ModuleList<Resampler>? upsamplers;
#pragma warning restore IDE1006

    /// <summary>Builds the stage.</summary>
    /// <param name="inChannels">Channels in.</param>
    /// <param name="outChannels">Channels out.</param>
    /// <param name="layers">Resnet blocks.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="resample">What the stage does to the resolution at its end.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeStage2D(int inChannels, int outChannels, int layers, int groups, VaeResample resample, Device? device = null, ScalarType? dtype = null)
        : base(nameof(VaeStage2D))
    {
        resnets = nn.ModuleList(Enumerable.Range(0, layers)
            .Select(i => new VaeResnetBlock(2, i == 0 ? inChannels : outChannels, outChannels, 3, groups, ResnetShortcutKey.Conv, device, dtype))
            .ToArray());
        if (resample == VaeResample.Down) downsamplers = nn.ModuleList(new Resampler(2, resample, outChannels, device, dtype));
        if (resample == VaeResample.Up) upsamplers = nn.ModuleList(new Resampler(2, resample, outChannels, device, dtype));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var block in resnets) h = Chain.Step(h, x, block);
        var resampler = (downsamplers ?? upsamplers)?[0];
        if (resampler is not null) h = Chain.Step(h, x, resampler);
        return (ReferenceEquals(h, x) ? x.alias() : h).MoveToOuterDisposeScope();
    }
}
