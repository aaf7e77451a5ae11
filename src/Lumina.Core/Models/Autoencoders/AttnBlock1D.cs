using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// Single-head self-attention over time for the mel VAE (upstream <c>AttnBlock1D</c>): GroupNorm(32, eps 1e-6), 1×1
/// convolutions <c>q</c>, <c>k</c>, <c>v</c>, softmax(qᵀk / √C) over time, <c>proj_out</c>, plus the input.
/// </summary>
internal sealed class AttnBlock1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly GroupNorm norm;
    private readonly Conv1d q;
    private readonly Conv1d k;
    private readonly Conv1d v;
    private readonly Conv1d proj_out;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public AttnBlock1D(int channels, Device? device = null, ScalarType? dtype = null) : base(nameof(AttnBlock1D))
    {
        norm = nn.GroupNorm(32, channels, eps: 1e-6, device: device, dtype: dtype);
        q = nn.Conv1d(channels, channels, 1, device: device, dtype: dtype);
        k = nn.Conv1d(channels, channels, 1, device: device, dtype: dtype);
        v = nn.Conv1d(channels, channels, 1, device: device, dtype: dtype);
        proj_out = nn.Conv1d(channels, channels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = norm.forward(x);
        // (B, C, T) → (B, 1, T, C): one head whose width is the channel count, so SDPA's 1/√C scale is upstream's.
        var query = q.forward(h).transpose(1, 2).unsqueeze(1);
        var key = k.forward(h).transpose(1, 2).unsqueeze(1);
        var value = v.forward(h).transpose(1, 2).unsqueeze(1);
        var attended = nn.functional.scaled_dot_product_attention(query, key, value).squeeze(1).transpose(1, 2);
        return proj_out.forward(attended).add_(x).MoveToOuterDisposeScope();
    }
}
