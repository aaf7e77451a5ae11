using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// The SnakeBeta activation of BigVGAN, <c>x + sin²(αx) / β</c>, with learned per-channel frequency α and magnitude β
/// (both stored as logarithms when <c>snake_logscale</c> is set), over (B, C, T). Parameters: <c>alpha</c>, <c>beta</c>.
/// </summary>
internal sealed class SnakeBeta : nn.Module<Tensor, Tensor>
{
    /// <summary>Added to the divisor, as upstream, so a zero magnitude does not divide by zero.</summary>
    internal const double DivisionGuard = 1e-9;

#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Parameter alpha;
    private readonly Parameter beta;
#pragma warning restore IDE1006
    private readonly bool _logScale;

    /// <summary>Builds the activation with α = β = 1 (logarithms 0).</summary>
    /// <param name="channels">Channels (C).</param>
    /// <param name="logScale">Whether α and β are stored as logarithms.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public SnakeBeta(int channels, bool logScale, Device? device = null, ScalarType? dtype = null) : base(nameof(SnakeBeta))
    {
        _logScale = logScale;
        alpha = new Parameter(logScale ? zeros(channels, dtype: dtype, device: device) : ones(channels, dtype: dtype, device: device));
        beta = new Parameter(logScale ? zeros(channels, dtype: dtype, device: device) : ones(channels, dtype: dtype, device: device));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = alpha.view(1, -1, 1);
        var b = beta.view(1, -1, 1);
        if (_logScale)
        {
            a = a.exp();
            b = b.exp();
        }
        var s = x.mul(a).sin_().pow_(2);
        return x.add(s.div_(b.add(DivisionGuard))).MoveToOuterDisposeScope();
    }
}
