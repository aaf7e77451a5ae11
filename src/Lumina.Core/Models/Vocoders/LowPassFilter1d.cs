using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// A depthwise Kaiser-sinc low-pass filter with optional stride (BigVGAN <c>LowPassFilter1d</c>): replicate padding
/// so the output keeps length/stride, filter taps in buffer <c>filter</c>.
/// </summary>
internal sealed class LowPassFilter1d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Tensor filter;
#pragma warning restore IDE1006
    private readonly int _stride;
    private readonly int _padLeft;
    private readonly int _padRight;

    /// <summary>Builds the filter.</summary>
    /// <param name="cutoff">Cutoff as a fraction of the sample rate, in [0, 0.5].</param>
    /// <param name="halfWidth">Transition half-width as a fraction of the sample rate.</param>
    /// <param name="stride">Output stride (the downsampling ratio).</param>
    /// <param name="kernelSize">Taps.</param>
    /// <param name="device">Where the buffer lives.</param>
    /// <param name="dtype">Buffer element type; null keeps float32.</param>
    public LowPassFilter1d(double cutoff = 0.5, double halfWidth = 0.6, int stride = 1, int kernelSize = 12, Device? device = null, ScalarType? dtype = null)
        : base(nameof(LowPassFilter1d))
    {
        if (cutoff < 0 || cutoff > 0.5) throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, "The cutoff must be in [0, 0.5] of the sample rate.");
        _stride = stride;
        var even = kernelSize % 2 == 0;
        _padLeft = kernelSize / 2 - (even ? 1 : 0);
        _padRight = kernelSize / 2;
        filter = KaiserSincFilter.Create(cutoff, halfWidth, kernelSize, dtype, device);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var channels = x.shape[1];
        var padded = nn.functional.pad(x, (_padLeft, _padRight), PaddingModes.Replicate);
        return nn.functional.conv1d(padded, filter.expand(channels, -1, -1), stride: _stride, groups: channels).MoveToOuterDisposeScope();
    }
}
