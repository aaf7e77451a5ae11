using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// The adaLN conditioning projection <c>Sequential(SiLU, Linear)</c> used by every DiT block and final layer. Its
/// linear is registered as <c>1</c>, so the checkpoint keys are <c>adaLN_modulation.1.weight</c>/<c>.bias</c>.
/// </summary>
internal sealed class AdaLNModulation : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "1")]
    private readonly Linear linear;

    /// <summary>Creates the projection.</summary>
    /// <param name="conditionDim">Width of the conditioning vector (min(dim, 1024) in the image DiTs).</param>
    /// <param name="outputDim">Width of the output (k·dim for k modulation vectors).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public AdaLNModulation(long conditionDim, long outputDim, Device? device = null, ScalarType? dtype = null)
        : base(nameof(AdaLNModulation))
    {
        linear = ModuleFactory.Linear(conditionDim, outputDim, true, device, dtype);
        RegisterComponents();
    }

    /// <summary>Number of modulation values produced per sample.</summary>
    public long OutputDim => linear.weight!.shape[0];

    /// <summary>Returns <c>Linear(SiLU(c))</c> for a conditioning batch <c>c</c> of shape [B, conditionDim].</summary>
    public override Tensor forward(Tensor c)
    {
        using var scope = NewDisposeScope();
        return linear.forward(nn.functional.silu(c)).MoveToOuterDisposeScope();
    }

    /// <summary>Applies adaLN modulation to tokens: <c>x·(1 + scale) + shift</c>, with scale/shift of shape [B, D].</summary>
    /// <param name="x">Tokens [B, N, D].</param>
    /// <param name="scale">Per-sample scale [B, D].</param>
    /// <param name="shift">Optional per-sample shift [B, D] (Next-DiT has none).</param>
    public static Tensor Modulate(Tensor x, Tensor scale, Tensor? shift = null)
    {
        using var scope = NewDisposeScope();
        var result = x * (scale.unsqueeze(1) + 1);
        if (shift is not null) result = result.add_(shift.unsqueeze(1));
        return result.MoveToOuterDisposeScope();
    }
}
