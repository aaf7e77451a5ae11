using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// A token-embedding table (<c>weight</c> <c>[count, dim]</c>) looked up by id.
/// </summary>
/// <remarks>
/// Own module instead of TorchSharp's <c>Embedding</c>: <c>nn.Embedding(…, device)</c> initialises the table on the CPU
/// before moving it (gigabytes for a 256k vocabulary on the meta device), and the table of
/// <c>nn.Embedding_from_pretrained</c> is a native copy, so loading into its <c>state_dict()</c> entry does not reach
/// the lookup (checked on TorchSharp 0.107).
/// </remarks>
internal sealed class TokenEmbedding : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key name
    private readonly Parameter weight;
#pragma warning restore IDE1006

    public TokenEmbedding(long count, long dim, Device? device, ScalarType dtype, bool initialize)
        : base(nameof(TokenEmbedding))
    {
        var table = torch.empty(count, dim, dtype: dtype, device: device);
        if (initialize)
        {
            using var noGrad = torch.no_grad();
            table.normal_();
        }

        weight = new Parameter(table);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        using var scope = torch.NewDisposeScope();
        var flat = weight.index_select(0, ids.reshape(-1));
        var shape = ids.shape.Append(weight.shape[1]).ToArray();
        return flat.view(shape).MoveToOuterDisposeScope();
    }
}
