using Lumina.Nn;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Nn;

/// <summary>
/// The fused, grouped attention against a naive reference written from the spec: explicit K/V repetition (query head i
/// reads KV head i / rep), softmax with explicit scale and −∞ on masked keys, caption attention at 1/sqrt(hd) gated by
/// tanh(gate), joint LayerNorm before the head split.
/// </summary>
public sealed class DiTAttentionTests
{
    private static Tensor Naive(Tensor q, Tensor k, Tensor v, Tensor? keyMask, double scale)
    {
        // q [B, H, N, hd], k/v [B, H, M, hd] (already repeated), keyMask [B, M] bool.
        var scores = q.matmul(k.transpose(-1, -2)) * scale;
        if (keyMask is not null) scores = scores.masked_fill(keyMask.logical_not().view(keyMask.shape[0], 1, 1, -1), double.NegativeInfinity);
        return scores.softmax(-1).matmul(v);
    }

    private static Tensor Heads(Tensor x, int heads, int hd) => x.view(x.shape[0], x.shape[1], heads, hd);

    [Theory]
    [InlineData(4, 2, true, null)]
    [InlineData(4, 4, false, 64)]
    [InlineData(6, 2, true, 16)]
    public void MatchesNaiveReference(int heads, int kvHeads, bool qkNorm, int? baseLen)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        const int hd = 8, capDim = 12, b = 2, n = 10, l = 5;
        var dim = heads * hd;
        using var attn = new DiTAttention(dim, heads, kvHeads, qkNorm, capDim);
        using (no_grad())
            foreach (var p in attn.parameters()) p.copy_(randn(p.shape) * 0.3);
        var x = randn(b, n, dim);
        var y = randn(b, l, capDim);
        var xMask = tensor(new[] { true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, false, false, false }).view(b, n);
        var yMask = tensor(new[] { true, true, true, true, true, true, true, false, false, false }).view(b, l);
        var freqs = RotaryEmbedding.Table2D(2, 5, hd);
        double? scale = baseLen is int bl ? DiTAttention.ProportionalScale(n, bl, hd) : null;

        Tensor actual;
        using (no_grad()) actual = attn.Forward(x, xMask, freqs, y, yMask, scale);

        var sd = attn.state_dict();
        Tensor Lin(Tensor input, string name) => nn.functional.linear(input, sd[name]);
        Tensor Norm(Tensor input, string name) => qkNorm ? nn.functional.layer_norm(input, [input.shape[^1]], sd[name + ".weight"], sd[name + ".bias"], 1e-5) : input;
        var rep = heads / kvHeads;
        Tensor Rep(Tensor kv) => kv.repeat_interleave(rep, 2); // [B, M, KV, hd] -> [B, M, H, hd]
        Tensor expected;
        using (no_grad())
        {
            var q = RotaryEmbedding.Apply(Heads(Norm(Lin(x, "wq.weight"), "q_norm"), heads, hd), freqs);
            var k = RotaryEmbedding.Apply(Heads(Norm(Lin(x, "wk.weight"), "k_norm"), kvHeads, hd), freqs);
            var v = Heads(Lin(x, "wv.weight"), kvHeads, hd);
            var self = Naive(q.transpose(1, 2), Rep(k).transpose(1, 2), Rep(v).transpose(1, 2), xMask, scale ?? 1 / Math.Sqrt(hd));
            var yk = Heads(Norm(Lin(y, "wk_y.weight"), "ky_norm"), kvHeads, hd);
            var yv = Heads(Lin(y, "wv_y.weight"), kvHeads, hd);
            var cross = Naive(q.transpose(1, 2), Rep(yk).transpose(1, 2), Rep(yv).transpose(1, 2), yMask, 1 / Math.Sqrt(hd));
            var sum = self + cross * sd["gate"].tanh().view(1, -1, 1, 1);
            expected = Lin(sum.transpose(1, 2).reshape(b, n, dim), "wo.weight");
        }
        TensorAssert.Close(expected, actual, what: $"H={heads} KV={kvHeads}");
    }

    [Fact]
    public void ProportionalScaleFollowsTheSpec()
    {
        Assert.Equal(Math.Sqrt(Math.Log(8192) / Math.Log(4096) / 72), DiTAttention.ProportionalScale(8192, 4096, 72), 12);
        Assert.Equal(1 / Math.Sqrt(72), DiTAttention.ProportionalScale(4096, 4096, 72), 12);
    }

    [Fact]
    public void BadShapesThrowInsteadOfAborting()
    {
        using var attn = new DiTAttention(16, 2, 1, true, 4);
        var freqs = RotaryEmbedding.Table1D(3, 8);
        Assert.Throws<ArgumentException>(() => attn.Forward(zeros(1, 3, 15), null, freqs, zeros(1, 2, 4), null));
        Assert.Throws<ArgumentException>(() => attn.Forward(zeros(1, 3, 16), zeros(1, 4), freqs, zeros(1, 2, 4), null));
        Assert.Throws<ArgumentException>(() => attn.Forward(zeros(1, 3, 16), null, freqs, null, null));
        Assert.Throws<ArgumentException>(() => new DiTAttention(16, 4, 3, false, 0));
    }

    private static (DiTAttention Attn, Tensor X, Tensor Y, Tensor Freqs) Seeded()
    {
        manual_seed(11);
        var attn = new DiTAttention(16, 2, 1, true, 4);
        using (no_grad())
            foreach (var p in attn.parameters()) p.copy_(randn(p.shape) * 0.3);
        return (attn, randn(2, 3, 16), randn(2, 2, 4), RotaryEmbedding.Table1D(3, 8));
    }

    // The projections as separate matmuls on the checkpoint-named weights, the rest of the attention as the module does it.
    private static Tensor Separate(DiTAttention attn, Tensor x, Tensor y, Tensor freqs)
    {
        using var clone = new DiTAttention(16, 2, 1, true, 4, dtype: x.dtype);
        using (no_grad())
            foreach (var (name, p) in attn.named_parameters()) clone.state_dict()[name].copy_(p);
        using var _ = no_grad();
        return clone.Forward(x, null, freqs, y, null);
    }

    [Fact]
    public void FusedWeightsKeepCheckpointKeysAndSeeInPlaceEdits()
    {
        var (attn, x, y, freqs) = Seeded();
        using var _ = attn;
        string[] expectedKeys = ["gate", "k_norm.bias", "k_norm.weight", "ky_norm.bias", "ky_norm.weight", "q_norm.bias", "q_norm.weight",
            "wk.weight", "wk_y.weight", "wo.weight", "wq.weight", "wv.weight", "wv_y.weight"];
        Assert.Equal(expectedKeys, attn.state_dict().Keys.Order(StringComparer.Ordinal).ToArray());
        var sd = attn.state_dict();
        Assert.Equal(new long[] { 16, 16 }, sd["wq.weight"].shape);
        Assert.Equal(new long[] { 8, 16 }, sd["wk.weight"].shape);

        Tensor before;
        using (no_grad()) before = attn.Forward(x, null, freqs, y, null);
        // An in-place edit of one named weight (as a LoRA merge or an optimizer step does) reaches the fused matmul.
        using (no_grad()) sd["wv.weight"].add_(0.5);
        using (no_grad()) sd["wk_y.weight"].mul_(-1);
        Tensor after;
        using (no_grad()) after = attn.Forward(x, null, freqs, y, null);
        Assert.False(before.allclose(after, 1e-3, 1e-3), "editing wv/wk_y in place must change the output");
        TensorAssert.Close(Separate(attn, x, y, freqs), after, what: "fused after in-place edits");
    }

    [Fact]
    public void MovingTheModuleFusesAgainAndTrainingGradientsReachEachWeight()
    {
        var (attn, x, y, freqs) = Seeded();
        using var _ = attn;
        attn.to(ScalarType.Float64);
        var x64 = x.to_type(ScalarType.Float64);
        var y64 = y.to_type(ScalarType.Float64);
        Tensor moved;
        using (no_grad()) moved = attn.Forward(x64, null, freqs, y64, null);
        Assert.Equal(ScalarType.Float64, moved.dtype);
        TensorAssert.Close(Separate(attn, x64, y64, freqs), moved, what: "fused after to(float64)");
        using (no_grad()) attn.state_dict()["wq.weight"].mul_(2); // still views after the move
        Tensor edited;
        using (no_grad()) edited = attn.Forward(x64, null, freqs, y64, null);
        TensorAssert.Close(Separate(attn, x64, y64, freqs), edited, what: "in-place edit after to(float64)");

        // With grad enabled the projections read the parameters themselves, so each gets its own gradient.
        attn.Forward(x64, null, freqs, y64, null).square().sum().backward();
        foreach (var name in new[] { "wq.weight", "wk.weight", "wv.weight", "wk_y.weight", "wv_y.weight" })
        {
            var grad = attn.named_parameters().Single(p => p.name == name).parameter.grad;
            Assert.NotNull(grad);
            Assert.True(grad!.abs().sum().item<double>() > 0, $"{name} got a zero gradient");
        }
    }
}
