using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>Alias-free ÷ratio downsampling (BigVGAN <c>DownSample1d</c>): a strided Kaiser-sinc low-pass, <c>lowpass</c>.</summary>
internal sealed class DownSample1d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly LowPassFilter1d lowpass;
#pragma warning restore IDE1006

    /// <summary>Builds the layer.</summary>
    /// <param name="ratio">Downsampling factor.</param>
    /// <param name="kernelSize">Filter taps (12 in BigVGAN).</param>
    /// <param name="device">Where the buffer lives.</param>
    /// <param name="dtype">Buffer element type; null keeps float32.</param>
    public DownSample1d(int ratio = 2, int kernelSize = 12, Device? device = null, ScalarType? dtype = null) : base(nameof(DownSample1d))
    {
        lowpass = new LowPassFilter1d(0.5 / ratio, 0.6 / ratio, ratio, kernelSize, device, dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => lowpass.forward(x);
}
