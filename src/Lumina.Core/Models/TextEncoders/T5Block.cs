using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>One T5 encoder block: <c>layer.0</c> self-attention and <c>layer.1</c> feed-forward.</summary>
internal sealed class T5Block : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key name
    private readonly ModuleList<nn.Module> layer;
#pragma warning restore IDE1006

    public T5Block(T5Config config, bool hasRelativeAttentionBias, Device? device, ScalarType dtype)
        : base(nameof(T5Block))
    {
        layer = new ModuleList<nn.Module>(
            new T5LayerSelfAttention(config, hasRelativeAttentionBias, device, dtype),
            new T5LayerFF(config, device, dtype));
        RegisterComponents();
    }

    public T5LayerSelfAttention SelfAttentionLayer => (T5LayerSelfAttention)layer[0];

    public override Tensor forward(Tensor x, Tensor positionBias)
    {
        using var scope = torch.NewDisposeScope();
        var h = SelfAttentionLayer.forward(x, positionBias);
        return ((T5LayerFF)layer[1]).forward(h).MoveToOuterDisposeScope();
    }
}
