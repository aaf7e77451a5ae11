using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// Root-mean-square layer norm as Lumina uses it: <c>x.float() * rsqrt(mean(x²) + eps)</c>, cast back to the input
/// dtype, then multiplied by <c>weight</c>. The checkpoint key is <c>weight</c>.
/// </summary>
internal sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Parameter weight;
#pragma warning restore IDE1006

    /// <summary>Creates the norm with a weight of ones.</summary>
    /// <param name="dim">Width of the last dimension.</param>
    /// <param name="eps">Added to the mean square; upstream uses 1e-5 in every DiT block.</param>
    /// <param name="device">Where the weight lives (null = CPU; <c>meta</c> allocates nothing).</param>
    /// <param name="dtype">Weight dtype (null = float32).</param>
    public RmsNorm(long dim, double eps = 1e-5, Device? device = null, ScalarType? dtype = null) : base(nameof(RmsNorm))
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "RMSNorm width must be positive.");
        Dim = dim;
        Eps = eps;
        weight = new Parameter(ones(dim, dtype: dtype ?? ScalarType.Float32, device: device));
        RegisterComponents();
    }

    /// <summary>Width of the normalised dimension.</summary>
    public long Dim { get; }

    /// <summary>Epsilon added to the mean square.</summary>
    public double Eps { get; }

    /// <summary>The learned per-channel gain.</summary>
    public Parameter Weight => weight;

    /// <summary>
    /// The per-row factor <c>rsqrt(mean(x²) + eps)</c> in float32, shape [..., 1] (one reduction over the last dim).
    /// </summary>
    public Tensor InverseRms(Tensor x)
    {
        using var scope = NewDisposeScope();
        var xf = x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32);
        var norm = torch.linalg.vector_norm(xf, 2, [-1L], true); // its backward needs this output: no in-place op on it
        return norm.pow(2).div_(Dim).add_(Eps).rsqrt_().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Normalises tokens [B, N, D] and applies adaLN modulation: <c>RMSNorm(x)·(1 + scale) + shift</c> with scale and
    /// shift [B, D], folding weight and scale into one per-sample gain. Equal to
    /// <c>AdaLNModulation.Modulate(forward(x), scale, shift)</c> up to float rounding.
    /// </summary>
    public Tensor NormalizeAndScale(Tensor x, Tensor scale, Tensor? shift = null)
    {
        if (x.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32)
            return AdaLNModulation.Modulate(forward(x), scale, shift);
        using var scope = NewDisposeScope();
        var rowGain = (scale + 1).mul_(weight).unsqueeze(1); // [B, 1, D]
        var result = (x * InverseRms(x)).mul_(rowGain);
        if (shift is not null) result = result.add_(shift.unsqueeze(1));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Gated residual through this norm: <c>residual + gate·RMSNorm(x)</c> with gate [B, D] (already tanh'ed if the
    /// model wants that), in two full passes. Equal to <c>residual + gate.unsqueeze(1) * forward(x)</c> up to rounding.
    /// </summary>
    public Tensor GatedResidual(Tensor residual, Tensor x, Tensor gate)
    {
        if (x.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32)
            return residual.addcmul(gate.unsqueeze(1), forward(x), 1);
        using var scope = NewDisposeScope();
        var gain = (gate * weight).unsqueeze(1); // [B, 1, D]
        return residual.addcmul(x * InverseRms(x), gain, 1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var xf = x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32);
        var normed = xf * xf.square().mean([-1L], keepdim: true).add_(Eps).rsqrt_();
        var result = x.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32
            ? normed.mul_(weight)              // fp32: no cast, scale in place (the product is not needed for backward)
            : normed.type_as(x) * weight;
        return result.MoveToOuterDisposeScope();
    }
}
