using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>Pre-norm residual self-attention sublayer of a T5 block (<c>layer.0</c>).</summary>
internal sealed class T5LayerSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly T5Attention SelfAttention;
    private readonly T5LayerNorm layer_norm;
#pragma warning restore IDE1006

    public T5LayerSelfAttention(T5Config config, bool hasRelativeAttentionBias, Device? device, ScalarType dtype)
        : base(nameof(T5LayerSelfAttention))
    {
        SelfAttention = new T5Attention(config, hasRelativeAttentionBias, device, dtype);
        layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, device, dtype);
        RegisterComponents();
    }

    public T5Attention Attention => SelfAttention;

    public override Tensor forward(Tensor x, Tensor positionBias)
    {
        using var scope = torch.NewDisposeScope();
        return (x + SelfAttention.forward(layer_norm.forward(x), positionBias)).MoveToOuterDisposeScope();
    }
}
