using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// BigVGAN's anti-aliased multi-periodicity residual block, type 1: three rounds of
/// <c>x += convs2[i](act(convs1[i](act(x))))</c>, with dilated <c>convs1</c> and undilated <c>convs2</c>, and six
/// anti-aliased activations (<c>activations.0..5</c>, used in pairs).
/// </summary>
internal sealed class AMPBlock1 : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly ModuleList<Conv1d> convs1;
    private readonly ModuleList<Conv1d> convs2;
    private readonly ModuleList<Activation1d> activations;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="config">Activation settings.</param>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="kernelSize">Odd kernel of every convolution.</param>
    /// <param name="dilations">Dilations of the three <c>convs1</c>.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public AMPBlock1(BigVGANConfig config, int channels, int kernelSize, IReadOnlyList<int> dilations, Device? device = null, ScalarType? dtype = null)
        : base(nameof(AMPBlock1))
    {
        ArgumentNullException.ThrowIfNull(config);
        convs1 = nn.ModuleList<Conv1d>();
        convs2 = nn.ModuleList<Conv1d>();
        activations = nn.ModuleList<Activation1d>();
        for (var i = 0; i < 3; i++)
        {
            convs1.Add(nn.Conv1d(channels, channels, kernelSize, dilation: dilations[i], padding: (kernelSize * dilations[i] - dilations[i]) / 2, device: device, dtype: dtype));
            convs2.Add(nn.Conv1d(channels, channels, kernelSize, padding: (kernelSize - 1) / 2, device: device, dtype: dtype));
        }
        for (var i = 0; i < 6; i++) activations.Add(Activation1d.For(config, channels, device, dtype));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (var i = 0; i < 3; i++)
        {
            var t = activations[2 * i].forward(h);
            t = convs1[i].forward(t);
            t = activations[2 * i + 1].forward(t);
            t = convs2[i].forward(t);
            h = t.add_(h);
        }
        return h.MoveToOuterDisposeScope();
    }
}
