using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// T5 bidirectional self-attention: unscaled dot products plus a learned relative-position bias (held by the first
/// block only and shared by all), fp32 softmax.
/// </summary>
internal sealed class T5Attention : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Linear q;
    private readonly Linear k;
    private readonly Linear v;
    private readonly Linear o;
    private readonly TokenEmbedding? relative_attention_bias;
#pragma warning restore IDE1006
    private readonly T5Config _config;

    public T5Attention(T5Config config, bool hasRelativeAttentionBias, Device? device, ScalarType dtype)
        : base(nameof(T5Attention))
    {
        _config = config;
        long inner = (long)config.NumHeads * config.DKv;
        q = ModuleFactory.Linear(config.DModel, inner, false, device, dtype);
        k = ModuleFactory.Linear(config.DModel, inner, false, device, dtype);
        v = ModuleFactory.Linear(config.DModel, inner, false, device, dtype);
        o = ModuleFactory.Linear(inner, config.DModel, false, device, dtype);
        if (hasRelativeAttentionBias)
        {
            relative_attention_bias = ModuleFactory.Embedding(config.RelativeAttentionNumBuckets, config.NumHeads, device, dtype);
        }

        RegisterComponents();
    }

    /// <summary>The position bias <c>[1, heads, L, L]</c> for <paramref name="length"/> tokens.</summary>
    public Tensor ComputeBias(long length, Device device)
    {
        if (relative_attention_bias is null)
        {
            throw new InvalidOperationException("Only the first T5 block holds the relative attention bias.");
        }

        using var scope = torch.NewDisposeScope();
        var context = torch.arange(length, dtype: ScalarType.Int64, device: device).unsqueeze(1);
        var memory = torch.arange(length, dtype: ScalarType.Int64, device: device).unsqueeze(0);
        var buckets = RelativePositionBucket(memory - context, _config.RelativeAttentionNumBuckets, _config.RelativeAttentionMaxDistance);
        var values = relative_attention_bias.forward(buckets); // [L, L, heads]
        return values.permute(2, 0, 1).unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <param name="x">Normed hidden states <c>[B, L, d_model]</c>.</param>
    /// <param name="positionBias">Bias plus additive padding mask, broadcastable to <c>[B, heads, L, L]</c>.</param>
    public override Tensor forward(Tensor x, Tensor positionBias)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], l = x.shape[1];
        int h = _config.NumHeads, d = _config.DKv;
        var qs = q.forward(x).view(b, l, h, d).transpose(1, 2);
        var ks = k.forward(x).view(b, l, h, d).transpose(1, 2);
        var vs = v.forward(x).view(b, l, h, d).transpose(1, 2);
        var scores = torch.matmul(qs, ks.transpose(3, 2)) + positionBias;
        var probs = scores.to(ScalarType.Float32).softmax(-1).to(scores.dtype);
        var attended = torch.matmul(probs, vs).transpose(1, 2).reshape(b, l, h * d);
        return o.forward(attended).MoveToOuterDisposeScope();
    }

    // Bidirectional bucketing of key − query offsets: half the buckets per direction, exact below a quarter of the
    // buckets, logarithmic up to max distance; computed with tensor ops in fp32 like upstream so edges agree.
    private static Tensor RelativePositionBucket(Tensor relative, int numBuckets, int maxDistance)
    {
        using var scope = torch.NewDisposeScope();
        int half = numBuckets / 2;
        var buckets = relative.gt(0).to(ScalarType.Int64) * half;
        var distance = relative.abs();
        int maxExact = half / 2;
        var isSmall = distance.lt(maxExact);
        var large = (distance.to(ScalarType.Float32) / maxExact).log() / Math.Log((double)maxDistance / maxExact) * (half - maxExact);
        var largeBucket = (large.to(ScalarType.Int64) + maxExact).clamp_max(half - 1);
        buckets = buckets + torch.where(isSmall, distance, largeBucket);
        return buckets.MoveToOuterDisposeScope();
    }
}
