using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>Doubles the time axis: nearest-neighbour repeat, then a kernel-3 convolution (upstream <c>Upsample1D</c>).</summary>
internal sealed class Upsample1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv1d conv;
#pragma warning restore IDE1006

    /// <summary>Builds the layer.</summary>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Upsample1D(int channels, Device? device = null, ScalarType? dtype = null) : base(nameof(Upsample1D))
    {
        conv = nn.Conv1d(channels, channels, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var up = x.repeat_interleave(2, dim: 2);
        return conv.forward(up);
    }
}
