using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// BigVGAN's periodic activations over (B, C, T), with learned per-channel parameters (stored as logarithms when
/// <c>snake_logscale</c> is set): Snake, <c>x + sin²(αx) / α</c> (parameter <c>alpha</c>), and SnakeBeta,
/// <c>x + sin²(αx) / β</c> with a separate magnitude (parameters <c>alpha</c>, <c>beta</c>).
/// </summary>
internal sealed class Snake : nn.Module<Tensor, Tensor>
{
    /// <summary>Added to the divisor, as upstream, so a zero magnitude does not divide by zero.</summary>
    internal const double DivisionGuard = 1e-9;

#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Parameter alpha;
    private readonly Parameter? beta;
#pragma warning restore IDE1006
    private readonly bool _logScale;

    /// <summary>Builds the activation with every parameter 1 (logarithms 0).</summary>
    /// <param name="channels">Channels (C).</param>
    /// <param name="withBeta">SnakeBeta (a separate magnitude β) rather than Snake.</param>
    /// <param name="logScale">Whether the parameters are stored as logarithms.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Snake(int channels, bool withBeta, bool logScale, Device? device = null, ScalarType? dtype = null) : base(withBeta ? "SnakeBeta" : nameof(Snake))
    {
        _logScale = logScale;
        Parameter Initial() => new(logScale ? zeros(channels, dtype: dtype, device: device) : ones(channels, dtype: dtype, device: device));
        alpha = Initial();
        if (withBeta) beta = Initial();
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = PerChannel(alpha);
        var magnitude = beta is null ? a : PerChannel(beta);
        var s = x.mul(a).sin_().pow_(2);
        return x.add(s.div_(magnitude.add(DivisionGuard))).MoveToOuterDisposeScope();
    }

    private Tensor PerChannel(Parameter p)
    {
        var v = p.view(1, -1, 1);
        return _logScale ? v.exp() : v;
    }
}
