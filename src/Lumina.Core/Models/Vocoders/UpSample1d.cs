using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// Alias-free ×ratio upsampling (BigVGAN <c>UpSample1d</c>): replicate-pad, zero-stuff with a strided transposed
/// convolution through a Kaiser-sinc low-pass filter (buffer <c>filter</c>), scale by the ratio, and trim.
/// </summary>
internal sealed class UpSample1d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Tensor filter;
#pragma warning restore IDE1006
    private readonly int _ratio;
    private readonly int _pad;
    private readonly int _padLeft;
    private readonly int _padRight;

    /// <summary>Builds the layer.</summary>
    /// <param name="ratio">Upsampling factor.</param>
    /// <param name="kernelSize">Filter taps (12 in BigVGAN).</param>
    /// <param name="device">Where the buffer lives.</param>
    /// <param name="dtype">Buffer element type; null keeps float32.</param>
    public UpSample1d(int ratio = 2, int kernelSize = 12, Device? device = null, ScalarType? dtype = null) : base(nameof(UpSample1d))
    {
        _ratio = ratio;
        _pad = kernelSize / ratio - 1;
        _padLeft = _pad * ratio + (kernelSize - ratio) / 2;
        _padRight = _pad * ratio + (kernelSize - ratio + 1) / 2;
        filter = KaiserSincFilter.Create(0.5 / ratio, 0.6 / ratio, kernelSize, dtype, device);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var channels = x.shape[1];
        var padded = nn.functional.pad(x, (_pad, _pad), PaddingModes.Replicate);
        var weight = filter.expand(channels, -1, -1);
        var y = nn.functional.conv_transpose1d(padded, weight, stride: _ratio, groups: channels).mul_(_ratio);
        return y[TensorIndex.Ellipsis, TensorIndex.Slice(_padLeft, y.shape[^1] - _padRight)].MoveToOuterDisposeScope();
    }
}
