using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>Pre-norm residual feed-forward sublayer of a T5 block (<c>layer.1</c>).</summary>
internal sealed class T5LayerFF : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly T5DenseActDense DenseReluDense;
    private readonly T5LayerNorm layer_norm;
#pragma warning restore IDE1006

    public T5LayerFF(T5Config config, Device? device, ScalarType dtype)
        : base(nameof(T5LayerFF))
    {
        DenseReluDense = new T5DenseActDense(config, device, dtype);
        layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, device, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        return (x + DenseReluDense.forward(layer_norm.forward(x))).MoveToOuterDisposeScope();
    }
}
