using Lumina.Nn;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Nn;

public sealed class BlockTests
{
    [Fact]
    public void RmsNormFollowsTheFormula()
    {
        using var scope = NewDisposeScope();
        using var norm = new RmsNorm(6, eps: 1e-5);
        using (no_grad()) norm.Weight.copy_(arange(6, dtype: ScalarType.Float32) + 1);
        var x = randn(3, 6, generator: new Generator(1));
        var xd = x.to_type(ScalarType.Float64);
        var expected = xd / (xd.square().mean([-1L], keepdim: true) + 1e-5).sqrt() * (arange(6, dtype: ScalarType.Float64) + 1);
        TensorAssert.Close(expected, norm.forward(x).to_type(ScalarType.Float64), what: "rmsnorm");
    }

    [Fact]
    public void FusedRmsNormModulationAndGatedResidualEqualTheComposition()
    {
        using var scope = NewDisposeScope();
        using var norm = new RmsNorm(16);
        using (no_grad()) norm.Weight.copy_(randn(16, generator: new Generator(2)));
        var x = randn(2, 5, 16, generator: new Generator(3)) * 3;
        var r = randn(2, 5, 16, generator: new Generator(4));
        var scale = randn(2, 16, generator: new Generator(5));
        var shift = randn(2, 16, generator: new Generator(6));
        TensorAssert.Close(AdaLNModulation.Modulate(norm.forward(x), scale, shift), norm.NormalizeAndScale(x, scale, shift), what: "modulate");
        TensorAssert.Close(AdaLNModulation.Modulate(norm.forward(x), scale), norm.NormalizeAndScale(x, scale), what: "scale only");
        TensorAssert.Close(r + scale.unsqueeze(1) * norm.forward(x), norm.GatedResidual(r, x, scale), what: "gated residual");
    }

    [Fact]
    public void FusedRmsNormPathsBackpropagateLikeTheComposition()
    {
        using var scope = NewDisposeScope();
        using var norm = new RmsNorm(8);
        var x1 = randn(2, 3, 8, generator: new Generator(7)).requires_grad_(true);
        var x2 = x1.detach().clone().requires_grad_(true);
        var scale = randn(2, 8, generator: new Generator(8));
        var gate = randn(2, 8, generator: new Generator(9));
        var residual = randn(2, 3, 8, generator: new Generator(10));
        var w = randn(2, 3, 8, generator: new Generator(11));

        (norm.GatedResidual(residual, norm.NormalizeAndScale(x1, scale), gate) * w).sum().backward();
        var fusedWeightGrad = norm.Weight.grad!.clone();
        norm.Weight.grad = null;
        var composed = residual + gate.unsqueeze(1) * norm.forward(AdaLNModulation.Modulate(norm.forward(x2), scale));
        (composed * w).sum().backward();
        TensorAssert.Close(x2.grad!, x1.grad!, what: "input gradient");
        TensorAssert.Close(norm.Weight.grad!, fusedWeightGrad, what: "weight gradient");
    }

    [Theory]
    [InlineData(64, 16, null, 176)]
    [InlineData(2304, 256, null, 6144)]
    [InlineData(3072, 256, null, 8192)]
    [InlineData(768, 256, 1.3, 2816)]
    public void SwiGluHiddenWidthFollowsUpstreamRounding(int dim, int multipleOf, double? multiplier, long expected)
        => Assert.Equal(expected, SwiGluFeedForward.HiddenDim(dim, multipleOf, multiplier));

    [Fact]
    public void TimestepEmbeddingIsCosThenSin()
    {
        using var scope = NewDisposeScope();
        var emb = TimestepEmbedder.TimestepEmbedding(tensor(new[] { 0.25f, 700f }), 8);
        var expected = new float[2, 8];
        var ts = new[] { 0.25, 700.0 };
        for (var i = 0; i < 2; i++)
            for (var k = 0; k < 4; k++)
            {
                var arg = ts[i] * Math.Exp(-Math.Log(10000) * k / 4);
                expected[i, k] = (float)Math.Cos(arg);
                expected[i, k + 4] = (float)Math.Sin(arg);
            }
        TensorAssert.Close(tensor(expected), emb, atol: 1e-4, what: "sinusoid"); // |arg| up to 700: float32 argument rounding
    }

    [Fact]
    public void CaptionPoolingIgnoresMaskedTokens()
    {
        using var scope = NewDisposeScope();
        var feats = tensor(new float[] { 1, 2, 3, 4, 100, 100, 5, 6, 7, 8, 9, 10 }).view(2, 3, 2);
        var mask = tensor(new[] { 1, 1, 0, 1, 1, 1 }).view(2, 3);
        var pooled = CaptionEmbedder.MaskedMeanPool(feats, mask);
        TensorAssert.Close(tensor(new float[] { 2, 3, 7, 8 }).view(2, 2), pooled);
    }

    [Fact]
    public void PatchifyIsChannelMajorAndUnpatchifyReadsChannelLast()
    {
        using var scope = NewDisposeScope();
        const int b = 2, c = 3, h = 4, w = 6, p = 2;
        var x = arange(b * c * h * w, dtype: ScalarType.Float32).view(b, c, h, w);
        var patches = Patchify.ToPatches(x, p);
        Assert.Equal([b, h / p, w / p, c * p * p], patches.shape);
        // patch vector index = c·p·p + ph·p + pw
        Assert.Equal(x[1, 2, 3, 5].item<float>(), patches[1, 1, 2, 2 * 4 + 1 * 2 + 1].item<float>());
        // the output patch vector is read as (ph, pw, c): index = ph·p·C + pw·C + c
        var tokens = arange(b * (h / p) * (w / p) * p * p * c, dtype: ScalarType.Float32).view(b, (h / p) * (w / p), p * p * c);
        var image = Patchify.FromPatches(tokens, p, h, w, c);
        Assert.Equal(tokens[1, 1 * 3 + 2, 1 * p * c + 0 * c + 2].item<float>(), image[1, 2, 3, 4].item<float>());
        Assert.Throws<ArgumentException>(() => Patchify.ToPatches(zeros(1, 3, 5, 4), 2));
    }
}
