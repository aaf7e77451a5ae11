using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// BigVGAN's anti-aliased multi-periodicity residual block. Every round adds a chain of (anti-aliased activation,
/// dilated or plain convolution) pairs to the input; the two upstream kinds differ only in the chain:
/// type 1 (<c>resblock: "1"</c>) runs three rounds of <c>convs2[i](act(convs1[i](act(x))))</c> with dilated
/// <c>convs1</c>, undilated <c>convs2</c> and six <c>activations</c>; type 2 runs two rounds of
/// <c>convs[i](act(x))</c> with dilated <c>convs</c> and two <c>activations</c>. Activations are used in order.
/// </summary>
internal sealed class AMPBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly ModuleList<Conv1d>? convs1;
    private readonly ModuleList<Conv1d>? convs2;
    private readonly ModuleList<Conv1d>? convs;
    private readonly ModuleList<Activation1d> activations;
#pragma warning restore IDE1006
    private readonly int _rounds;

    /// <summary>Builds the block of the kind <see cref="BigVGANConfig.ResBlock"/> names.</summary>
    /// <param name="config">Block kind and activation settings.</param>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="kernelSize">Odd kernel of every convolution.</param>
    /// <param name="dilations">Dilations of the dilated convolutions (three for type 1, two for type 2).</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public AMPBlock(BigVGANConfig config, int channels, int kernelSize, IReadOnlyList<int> dilations, Device? device = null, ScalarType? dtype = null)
        : base(nameof(AMPBlock))
    {
        ArgumentNullException.ThrowIfNull(config);
        var typeOne = config.ResBlock == "1";
        _rounds = typeOne ? 3 : 2;
        Conv1d Dilated(int i) => nn.Conv1d(channels, channels, kernelSize, dilation: dilations[i],
            padding: (kernelSize * dilations[i] - dilations[i]) / 2, device: device, dtype: dtype);
        Conv1d Plain() => nn.Conv1d(channels, channels, kernelSize, padding: (kernelSize - 1) / 2, device: device, dtype: dtype);
        if (typeOne)
        {
            convs1 = nn.ModuleList(Enumerable.Range(0, _rounds).Select(Dilated).ToArray());
            convs2 = nn.ModuleList(Enumerable.Range(0, _rounds).Select(_ => Plain()).ToArray());
        }
        else
        {
            convs = nn.ModuleList(Enumerable.Range(0, _rounds).Select(Dilated).ToArray());
        }
        var perRound = typeOne ? 2 : 1;
        activations = nn.ModuleList(Enumerable.Range(0, _rounds * perRound).Select(_ => Activation1d.For(config, channels, device, dtype)).ToArray());
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        var next = 0;
        for (var i = 0; i < _rounds; i++)
        {
            var t = h;
            foreach (var conv in RoundConvolutions(i)) t = conv.forward(activations[next++].forward(t));
            h = t.add_(h);
        }
        return h.MoveToOuterDisposeScope();
    }

    private IEnumerable<Conv1d> RoundConvolutions(int round)
    {
        if (convs is not null)
        {
            yield return convs[round];
            yield break;
        }
        yield return convs1![round];
        yield return convs2![round];
    }
}
