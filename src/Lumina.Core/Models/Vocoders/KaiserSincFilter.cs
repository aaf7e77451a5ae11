using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// The Kaiser-windowed sinc low-pass filter of alias-free resampling (as in StyleGAN3 / BigVGAN): a filter of
/// <c>kernel</c> taps with cutoff and transition half-width as fractions of the sample rate, normalised to sum to 1.
/// Returned shaped (1, 1, kernel), the layout of the checkpoint buffers.
/// </summary>
internal static class KaiserSincFilter
{
    /// <summary>Designs the filter in float64 and returns it in float32 (or <paramref name="dtype"/>).</summary>
    public static Tensor Create(double cutoff, double halfWidth, int kernel, ScalarType? dtype = null, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var even = kernel % 2 == 0;
        var half = kernel / 2;
        // Kaiser's formula for the window's β from the wanted stop-band attenuation A (dB).
        var deltaF = 4 * halfWidth;
        var attenuation = 2.285 * (half - 1) * Math.PI * deltaF + 7.95;
        var beta = attenuation > 50 ? 0.1102 * (attenuation - 8.7)
            : attenuation >= 21 ? 0.5842 * Math.Pow(attenuation - 21, 0.4) + 0.07886 * (attenuation - 21)
            : 0.0;
        var taps = new double[kernel];
        if (cutoff > 0)
        {
            var window = kaiser_window(kernel, periodic: false, beta: (float)beta, dtype: ScalarType.Float64).data<double>().ToArray();
            for (var n = 0; n < kernel; n++)
            {
                var t = even ? n - half + 0.5 : n - half;
                var arg = 2 * cutoff * t;
                var sinc = arg == 0 ? 1.0 : Math.Sin(Math.PI * arg) / (Math.PI * arg);
                taps[n] = 2 * cutoff * window[n] * sinc;
            }
            var sum = taps.Sum();
            for (var n = 0; n < kernel; n++) taps[n] /= sum;
        }
        return tensor(taps, dtype: ScalarType.Float64).view(1, 1, kernel).to(dtype ?? ScalarType.Float32, device ?? CPU).MoveToOuterDisposeScope();
    }
}
