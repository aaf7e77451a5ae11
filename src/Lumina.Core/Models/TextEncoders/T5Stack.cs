using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>The T5 encoder stack (<c>encoder.*</c>): shared embedding, blocks and the final layer norm.</summary>
internal sealed class T5Stack : nn.Module
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly TokenEmbedding embed_tokens;
    private readonly ModuleList<T5Block> block;
    private readonly T5LayerNorm final_layer_norm;
#pragma warning restore IDE1006

    public T5Stack(T5Config config, TokenEmbedding sharedEmbedding, Device? device, ScalarType dtype)
        : base(nameof(T5Stack))
    {
        embed_tokens = sharedEmbedding;
        block = new ModuleList<T5Block>();
        for (int i = 0; i < config.NumLayers; i++)
        {
            block.Add(new T5Block(config, hasRelativeAttentionBias: i == 0, device, dtype));
        }

        final_layer_norm = new T5LayerNorm(config.DModel, config.LayerNormEpsilon, device, dtype);
        RegisterComponents();
    }

    public int Count => block.Count;

    public Tensor Embed(Tensor ids) => embed_tokens.forward(ids);

    public Tensor PositionBias(long length, Device device) => block[0].SelfAttentionLayer.Attention.ComputeBias(length, device);

    public Tensor Block(int index, Tensor x, Tensor positionBias) => block[index].forward(x, positionBias);

    public Tensor FinalNorm(Tensor x) => final_layer_norm.forward(x);
}
