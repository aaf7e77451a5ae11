using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// Halves or doubles every spatial axis of a VAE feature map, (B, C, T) or (B, C, H, W), with one kernel-3 convolution
/// <c>conv</c>. Down: one zero appended at the end of each axis, then stride 2 without padding (upstream
/// <c>Downsample1D</c>, diffusers <c>Downsample2D</c> with padding 0 as the VAE encoder uses it). Up: nearest-neighbour
/// repeat ×2, then a "same" convolution (upstream <c>Upsample1D</c>, diffusers <c>Upsample2D</c>).
/// </summary>
internal sealed class Resampler : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly nn.Module<Tensor, Tensor> conv;
#pragma warning restore IDE1006
    private readonly VaeResample _direction;
    private readonly long[] _endPadding;
    private readonly double[] _scale;

    /// <summary>Builds the layer.</summary>
    /// <param name="dims">Spatial axes: 1 or 2.</param>
    /// <param name="direction"><see cref="VaeResample.Down"/> or <see cref="VaeResample.Up"/>.</param>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Resampler(int dims, VaeResample direction, int channels, Device? device = null, ScalarType? dtype = null)
        : base(direction == VaeResample.Down ? "Downsample" : "Upsample")
    {
        if (direction == VaeResample.None) throw new ArgumentOutOfRangeException(nameof(direction), direction, "A resampler goes down or up.");
        _direction = direction;
        _endPadding = Enumerable.Range(0, dims).SelectMany(_ => new long[] { 0, 1 }).ToArray();
        _scale = Enumerable.Repeat(2.0, dims).ToArray();
        conv = direction == VaeResample.Down
            ? VaeConv.Create(dims, channels, channels, 3, stride: 2, device: device, dtype: dtype)
            : VaeConv.Same(dims, channels, channels, 3, device, dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var resized = _direction == VaeResample.Down
            ? nn.functional.pad(x, _endPadding)
            : nn.functional.interpolate(x, scale_factor: _scale, mode: InterpolationMode.Nearest);
        return conv.forward(resized);
    }
}
