using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// RMSNorm of the LLaMA family, in its two upstream variants: LLaMA's <c>w·cast(x̂)</c> and Gemma's
/// <c>cast(x̂·(1+w))</c>, both normalising in fp32. Kept here rather than in <c>Lumina.Nn</c> because the Gemma
/// variant and its checkpoint semantics (<c>w</c> stored as an offset from 1) are specific to these encoders.
/// </summary>
internal sealed class DecoderRmsNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key name
    private readonly Parameter weight;
#pragma warning restore IDE1006
    private readonly double _eps;
    private readonly bool _unitOffset;

    public DecoderRmsNorm(long dim, double eps, bool unitOffset, Device? device, ScalarType dtype)
        : base(nameof(DecoderRmsNorm))
    {
        _eps = eps;
        _unitOffset = unitOffset;
        weight = nn.Parameter(unitOffset ? torch.zeros(dim, dtype: dtype, device: device) : torch.ones(dim, dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var xf = x.to(ScalarType.Float32);
        var normed = xf * (xf.pow(2).mean(new long[] { -1 }, keepdim: true) + _eps).rsqrt();
        Tensor result = _unitOffset
            ? (normed * (weight.to(ScalarType.Float32) + 1.0)).to(x.dtype)
            : weight * normed.to(x.dtype);
        return result.MoveToOuterDisposeScope();
    }
}
