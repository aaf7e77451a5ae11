using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The spatial self-attention of the VAE mid block (diffusers <c>Attention</c> built with a group norm, biases and a
/// residual connection): GroupNorm (eps 1e-6) over channels, then attention over all H·W positions with
/// <c>to_q</c>/<c>to_k</c>/<c>to_v</c> and <c>to_out.0</c>, plus the input. One head spans all channels in every released
/// VAE.
/// </summary>
internal sealed class VaeAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly VaeGroupNorm group_norm;
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<Linear> to_out;
#pragma warning restore IDE1006
    private readonly int _heads;

    /// <summary>Builds the block.</summary>
    /// <param name="channels">Channels of the feature map.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="headDim">Channels per head (diffusers passes the channel count, so one head).</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public VaeAttention(int channels, int groups, int headDim, Device? device = null, ScalarType? dtype = null)
        : base(nameof(VaeAttention))
    {
        if (headDim <= 0 || channels % headDim != 0)
            throw new ArgumentException($"Channels {channels} must be a multiple of the head size {headDim}.", nameof(headDim));
        _heads = channels / headDim;
        group_norm = new VaeGroupNorm(groups, channels, 1e-6, device, dtype);
        to_q = nn.Linear(channels, channels, device: device, dtype: dtype);
        to_k = nn.Linear(channels, channels, device: device, dtype: dtype);
        to_v = nn.Linear(channels, channels, device: device, dtype: dtype);
        to_out = nn.ModuleList(nn.Linear(channels, channels, device: device, dtype: dtype));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long n = h * w, hd = c / _heads;
        var normed = group_norm.forward(x).view(b, c, n).transpose(1, 2);
        var q = to_q.forward(normed).view(b, n, _heads, hd).transpose(1, 2);
        var k = to_k.forward(normed).view(b, n, _heads, hd).transpose(1, 2);
        var v = to_v.forward(normed).view(b, n, _heads, hd).transpose(1, 2);
        normed.Dispose();
        var attended = nn.functional.scaled_dot_product_attention(q, k, v);
        q.Dispose(); k.Dispose(); v.Dispose();
        var merged = attended.transpose(1, 2).reshape(b, n, c);
        attended.Dispose();
        var projected = to_out[0].forward(merged);
        merged.Dispose();
        var result = projected.transpose(1, 2).reshape(b, c, h, w).add_(x);
        return result.MoveToOuterDisposeScope();
    }
}
