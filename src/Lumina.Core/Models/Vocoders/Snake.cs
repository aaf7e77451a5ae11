using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// The periodic Snake activation, <c>x + sin²(αx) / α</c> with a learned α per channel (stored as log α when
/// <c>snake_logscale</c> is set), over (B, C, T). Parameter: <c>alpha</c>.
/// </summary>
internal sealed class Snake : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Parameter alpha;
#pragma warning restore IDE1006
    private readonly bool _logScale;

    /// <summary>Builds the activation with α = 1 (log α = 0).</summary>
    /// <param name="channels">Channels (C).</param>
    /// <param name="logScale">Whether α is stored as its logarithm.</param>
    /// <param name="device">Where the parameter lives.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Snake(int channels, bool logScale, Device? device = null, ScalarType? dtype = null) : base(nameof(Snake))
    {
        _logScale = logScale;
        alpha = new Parameter(logScale ? zeros(channels, dtype: dtype, device: device) : ones(channels, dtype: dtype, device: device));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = alpha.view(1, -1, 1);
        if (_logScale) a = a.exp();
        var s = x.mul(a).sin_().pow_(2);
        return x.add(s.div_(a.add(SnakeBeta.DivisionGuard))).MoveToOuterDisposeScope();
    }
}
