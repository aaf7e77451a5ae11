using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// The last layer of the Lumina DiTs: LayerNorm without affine (eps 1e-6), adaLN modulation, then <c>linear</c> to the
/// output patch width. Next-DiT modulates with a scale only (adaLN width dim); Flag-DiT and the music DiT with shift
/// and scale (adaLN width 2·dim, chunk order shift, scale). Keys <c>linear.*</c>, <c>adaLN_modulation.1.*</c>.
/// </summary>
internal sealed class DiTFinalLayer : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly LayerNorm norm_final;
    private readonly Linear linear;
    private readonly AdaLNModulation adaLN_modulation;
#pragma warning restore IDE1006

    /// <summary>Creates the layer.</summary>
    /// <param name="dim">Model width.</param>
    /// <param name="conditionDim">Width of the adaLN input.</param>
    /// <param name="outputFeatures">Output width per token (p·p·C_out for images).</param>
    /// <param name="withShift">True for Flag-DiT style shift+scale, false for Next-DiT's scale only.</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public DiTFinalLayer(long dim, long conditionDim, long outputFeatures, bool withShift, Device? device = null, ScalarType? dtype = null)
        : base(nameof(DiTFinalLayer))
    {
        WithShift = withShift;
        norm_final = nn.LayerNorm(dim, eps: 1e-6, elementwise_affine: false, device: device, dtype: dtype);
        linear = ModuleFactory.Linear(dim, outputFeatures, true, device, dtype);
        adaLN_modulation = new AdaLNModulation(conditionDim, withShift ? 2 * dim : dim, device, dtype);
        RegisterComponents();
    }

    /// <summary>Whether the modulation has a shift (Flag-DiT) or only a scale (Next-DiT).</summary>
    public bool WithShift { get; }

    /// <summary>Maps tokens [B, N, dim] with conditioning [B, condDim] to [B, N, outputFeatures].</summary>
    public override Tensor forward(Tensor x, Tensor c)
    {
        using var scope = NewDisposeScope();
        var mod = adaLN_modulation.forward(c);
        Tensor h;
        if (WithShift)
        {
            var parts = mod.chunk(2, 1);
            h = AdaLNModulation.Modulate(norm_final.forward(x), parts[1], parts[0]);
        }
        else
        {
            h = AdaLNModulation.Modulate(norm_final.forward(x), mod);
        }
        return linear.forward(h).MoveToOuterDisposeScope();
    }
}
