using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// Root-mean-square layer norm as Lumina uses it: <c>x.float() * rsqrt(mean(x²) + eps)</c>, cast back to the input
/// dtype, then multiplied by <c>weight</c>. The checkpoint key is <c>weight</c>.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
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
