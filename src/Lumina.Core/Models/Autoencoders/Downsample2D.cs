using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// Halves height and width: zero-pads one row at the bottom and one column at the right, then a 3×3 convolution with
/// stride 2 (diffusers <c>Downsample2D</c> with padding 0, as the VAE encoder uses it).
/// </summary>
internal sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv2d conv;
#pragma warning restore IDE1006

    /// <summary>Builds the layer.</summary>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Downsample2D(int channels, Device? device = null, ScalarType? dtype = null) : base(nameof(Downsample2D))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var padded = nn.functional.pad(x, (0, 1, 0, 1));
        return conv.forward(padded);
    }
}
