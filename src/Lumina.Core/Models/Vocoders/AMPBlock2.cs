using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// BigVGAN's lighter residual block, type 2: two rounds of <c>x += convs[i](act(x))</c> with dilated <c>convs</c> and
/// anti-aliased <c>activations</c>.
/// </summary>
internal sealed class AMPBlock2 : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly ModuleList<Conv1d> convs;
    private readonly ModuleList<Activation1d> activations;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="config">Activation settings.</param>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="kernelSize">Odd kernel of every convolution.</param>
    /// <param name="dilations">Dilations of the two convolutions.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public AMPBlock2(BigVGANConfig config, int channels, int kernelSize, IReadOnlyList<int> dilations, Device? device = null, ScalarType? dtype = null)
        : base(nameof(AMPBlock2))
    {
        ArgumentNullException.ThrowIfNull(config);
        convs = nn.ModuleList<Conv1d>();
        activations = nn.ModuleList<Activation1d>();
        for (var i = 0; i < 2; i++)
        {
            convs.Add(nn.Conv1d(channels, channels, kernelSize, dilation: dilations[i], padding: (kernelSize * dilations[i] - dilations[i]) / 2, device: device, dtype: dtype));
            activations.Add(Activation1d.For(config, channels, device, dtype));
        }
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (var i = 0; i < 2; i++) h = convs[i].forward(activations[i].forward(h)).add_(h);
        return h.MoveToOuterDisposeScope();
    }
}
