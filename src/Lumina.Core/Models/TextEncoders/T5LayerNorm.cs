using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>T5's layer norm: RMS scaling only (no mean, no bias), variance in fp32, then <c>w · x̂</c>.</summary>
internal sealed class T5LayerNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key name
    private readonly Parameter weight;
#pragma warning restore IDE1006
    private readonly double _eps;

    public T5LayerNorm(long dim, double eps, Device? device, ScalarType dtype)
        : base(nameof(T5LayerNorm))
    {
        _eps = eps;
        weight = nn.Parameter(torch.ones(dim, dtype: dtype, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var variance = x.to(ScalarType.Float32).pow(2).mean(new long[] { -1 }, keepdim: true);
        var normed = x * (variance + _eps).rsqrt();
        if (weight.dtype is ScalarType.Float16 or ScalarType.BFloat16)
        {
            normed = normed.to(weight.dtype);
        }

        return (weight * normed).MoveToOuterDisposeScope();
    }
}
