using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// An anti-aliased periodic activation (BigVGAN <c>Activation1d</c>): upsample ×2 (<c>upsample</c>), apply the snake
/// activation (<c>act</c>), low-pass and downsample ÷2 (<c>downsample</c>), so the non-linearity's harmonics do not
/// alias back into the band.
/// </summary>
internal sealed class Activation1d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly nn.Module<Tensor, Tensor> act;
    private readonly UpSample1d upsample;
    private readonly DownSample1d downsample;
#pragma warning restore IDE1006

    /// <summary>Wraps an activation.</summary>
    /// <param name="activation">A <see cref="Snake"/> (either kind).</param>
    /// <param name="device">Where the filter buffers live.</param>
    /// <param name="dtype">Buffer element type; null keeps float32.</param>
    public Activation1d(nn.Module<Tensor, Tensor> activation, Device? device = null, ScalarType? dtype = null) : base(nameof(Activation1d))
    {
        act = activation ?? throw new ArgumentNullException(nameof(activation));
        upsample = new UpSample1d(2, 12, device, dtype);
        downsample = new DownSample1d(2, 12, device, dtype);
        RegisterComponents();
    }

    /// <summary>Builds the activation a config names ("snake" or "snakebeta") for a channel count.</summary>
    internal static Activation1d For(BigVGANConfig config, int channels, Device? device, ScalarType? dtype) =>
        new(new Snake(channels, withBeta: config.Activation != "snake", config.SnakeLogScale, device, dtype), device, dtype);

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = upsample.forward(x);
        h = act.forward(h);
        return downsample.forward(h).MoveToOuterDisposeScope();
    }
}
