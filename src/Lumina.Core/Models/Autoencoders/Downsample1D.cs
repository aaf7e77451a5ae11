using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>Halves the time axis: one zero frame appended at the end, then a kernel-3 stride-2 convolution (upstream <c>Downsample1D</c>).</summary>
internal sealed class Downsample1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv1d conv;
#pragma warning restore IDE1006

    /// <summary>Builds the layer.</summary>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Downsample1D(int channels, Device? device = null, ScalarType? dtype = null) : base(nameof(Downsample1D))
    {
        conv = nn.Conv1d(channels, channels, 3, stride: 2, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var padded = nn.functional.pad(x, (0, 1));
        return conv.forward(padded);
    }
}
