using Lumina.Models.DiT;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>Compositional generation: per-region caption cross-attention, global caption for adaLN.</summary>
public sealed class NextDiTCompositionalTests
{
    internal static readonly NextDiTConfig Tiny = new()
    {
        PatchSize = 2, InChannels = 4, Dim = 48, Layers = 2, Heads = 2, KvHeads = 1, MultipleOf = 16, LearnSigma = true,
        QkNorm = true, CaptionDim = 32,
    };

    /// <summary>A model with every weight random (nonzero gates, so the caption cross-attention matters).</summary>
    internal static NextDiT RandomModel(NextDiTConfig config, ulong seed)
    {
        var model = new NextDiT(config);
        using var generator = new Generator(seed);
        using var noGrad = no_grad();
        foreach (var (_, p) in model.named_parameters())
            p.copy_(randn(p.shape, dtype: p.dtype, generator: generator).mul_(0.3));
        model.eval();
        return model;
    }

    private static RegionalCaptions Repeat(Tensor features, Tensor mask, int rows, int cols, Tensor? globalFeatures = null, Tensor? globalMask = null)
    {
        var r = rows * cols;
        var (b, l, c) = (features.shape[0], features.shape[1], features.shape[2]);
        return new RegionalCaptions(features.unsqueeze(1).expand(b, r, l, c), mask.unsqueeze(1).expand(b, r, l),
            globalFeatures ?? features, globalMask ?? mask, rows, cols);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(1, 3)]
    [InlineData(2, 1)]
    public void EveryRegionWithTheGlobalCaptionEqualsTheNormalForward(int rows, int cols)
    {
        using var scope = NewDisposeScope();
        using var model = RandomModel(Tiny, 1);
        var x = randn(2, 4, 8, 12, generator: new Generator(2));
        var t = tensor(new[] { 0.3f, 0.8f });
        var cap = randn(2, 6, 32, generator: new Generator(3));
        var mask = tensor(new long[,] { { 1, 1, 1, 1, 0, 0 }, { 1, 1, 1, 1, 1, 1 } });
        var options = new NextDiTForwardOptions { BaseSequenceLength = 16, ScaleFactor = 1.5, ScaleWatershed = 0.5 };
        using var noGrad = no_grad();
        var normal = model.Forward(x, t, cap, mask, options);
        var composed = model.ForwardCompositional(x, t, Repeat(cap, mask, rows, cols), options);
        TensorAssert.Close(normal, composed, atol: 1e-5, rtol: 0, what: $"{rows}x{cols} regions with the global caption");
    }

    [Fact]
    public void ChangingOneRegionCaptionChangesMostlyThatRegion()
    {
        using var scope = NewDisposeScope();
        using var model = RandomModel(Tiny, 4);
        var x = randn(1, 4, 16, 16, generator: new Generator(5));
        var t = tensor(new[] { 0.5f });
        var regions = randn(1, 4, 5, 32, generator: new Generator(6));
        var regionMask = ones(1, 4, 5, dtype: ScalarType.Int64);
        var global = randn(1, 7, 32, generator: new Generator(7));
        var globalMask = ones(1, 7, dtype: ScalarType.Int64);
        var changed = regions.clone();
        changed[0, 1] = randn(5, 32, generator: new Generator(8)); // region 1 = top right of a 2×2 grid
        using var noGrad = no_grad();
        var before = model.ForwardCompositional(x, t, new RegionalCaptions(regions, regionMask, global, globalMask, 2, 2));
        var after = model.ForwardCompositional(x, t, new RegionalCaptions(changed, regionMask, global, globalMask, 2, 2));
        var diff = (after - before).abs().sum(1)[0]; // [16, 16] latent cells
        var inside = diff[..8, 8..].mean().item<float>();
        var outside = (diff.sum().item<float>() - diff[..8, 8..].sum().item<float>()) / (256 - 64);
        Assert.True(inside > 0, "the changed caption must change its region");
        Assert.True(inside > 3 * outside, $"mean change inside the region {inside} should dominate the change outside {outside}");
    }

    [Fact]
    public void GlobalCaptionDrivesAdaLNOnly()
    {
        // Same region captions, different global caption: the pooled adaLN input changes, so every region changes.
        using var scope = NewDisposeScope();
        using var model = RandomModel(Tiny, 9);
        var x = randn(1, 4, 8, 8, generator: new Generator(10));
        var t = tensor(new[] { 0.5f });
        var regions = randn(1, 2, 4, 32, generator: new Generator(11));
        var regionMask = ones(1, 2, 4, dtype: ScalarType.Int64);
        var mask = ones(1, 3, dtype: ScalarType.Int64);
        using var noGrad = no_grad();
        var a = model.ForwardCompositional(x, t, new RegionalCaptions(regions, regionMask, randn(1, 3, 32, generator: new Generator(12)), mask, 1, 2));
        var b = model.ForwardCompositional(x, t, new RegionalCaptions(regions, regionMask, randn(1, 3, 32, generator: new Generator(13)), mask, 1, 2));
        var diff = (a - b).abs().sum(1)[0];
        Assert.True(diff[.., ..4].mean().item<float>() > 1e-3 && diff[.., 4..].mean().item<float>() > 1e-3, "both regions follow the global caption");
    }

    [Fact]
    public void GuidedForwardMixesTheTwoHalves()
    {
        using var scope = NewDisposeScope();
        using var model = RandomModel(Tiny, 14);
        var x = randn(2, 4, 8, 8, generator: new Generator(15));
        var t = tensor(new[] { 0.4f, 0.4f });
        var captions = new RegionalCaptions(randn(2, 2, 4, 32, generator: new Generator(16)), ones(2, 2, 4), randn(2, 3, 32, generator: new Generator(17)), ones(2, 3), 2, 1);
        using var noGrad = no_grad();
        var guided = UpstreamCfg.Run((input, time) => model.ForwardCompositional(input, time, captions), x, 0.4, 4.0);
        var raw = model.ForwardCompositional(cat([x[..1], x[..1]], 0), t, captions);
        var expected = raw[1..].narrow(1, 0, 3) + (raw[..1].narrow(1, 0, 3) - raw[1..].narrow(1, 0, 3)) * 4.0;
        TensorAssert.Close(expected, guided[..1].narrow(1, 0, 3), what: "guided channels");
        Assert.Equal(guided[..1].narrow(1, 0, 3).data<float>().ToArray(), guided[1..].narrow(1, 0, 3).data<float>().ToArray());
        TensorAssert.Close(raw.narrow(1, 3, 1), guided.narrow(1, 3, 1), what: "channel 3 keeps each half's raw output");
    }

    [Fact]
    public void RegionsAreRowMajorBlocksOfWholePatches()
    {
        using var ids = NextDiT.RegionOfTokens(4, 6, 2, 3);
        Assert.Equal(new long[]
        {
            0, 0, 1, 1, 2, 2,
            0, 0, 1, 1, 2, 2,
            3, 3, 4, 4, 5, 5,
            3, 3, 4, 4, 5, 5,
        }, ids.data<long>().ToArray());
    }

    [Fact]
    public void InvalidRegionInputsNameThePart()
    {
        using var scope = NewDisposeScope();
        using var model = RandomModel(Tiny, 18);
        var x = zeros(1, 4, 8, 12); // 4×6 patches
        var t = zeros(1);
        var g = zeros(1, 3, 32);
        var gm = ones(1, 3);
        RegionalCaptions Grid(int rows, int cols, long l = 4) =>
            new(zeros(1, Math.Max(rows * cols, 1), l, 32), ones(1, Math.Max(rows * cols, 1), l), g, gm, rows, cols);

        Assert.Equal("captions", Assert.Throws<ArgumentException>(() => model.ForwardCompositional(x, t, Grid(3, 1))).ParamName);   // 4 rows into 3
        Assert.Equal("captions", Assert.Throws<ArgumentException>(() => model.ForwardCompositional(x, t, Grid(1, 4))).ParamName);   // 6 cols into 4
        Assert.Equal("Rows", Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardCompositional(x, t, Grid(0, 2))).ParamName);
        Assert.Equal("RegionFeatures", Assert.Throws<ArgumentException>(() =>
            model.ForwardCompositional(x, t, new RegionalCaptions(zeros(1, 3, 4, 32), ones(1, 3, 4), g, gm, 2, 2))).ParamName);
        Assert.Equal("RegionFeatures", Assert.Throws<ArgumentException>(() =>
            model.ForwardCompositional(x, t, new RegionalCaptions(zeros(1, 4, 4, 16), ones(1, 4, 4), g, gm, 2, 2))).ParamName);
        Assert.Equal("RegionMask", Assert.Throws<ArgumentException>(() =>
            model.ForwardCompositional(x, t, new RegionalCaptions(zeros(1, 4, 4, 32), ones(1, 4, 5), g, gm, 2, 2))).ParamName);
        var emptyRegion = ones(1, 4, 4);
        emptyRegion[0, 2] = zeros(4);
        Assert.Equal("RegionMask", Assert.Throws<ArgumentException>(() =>
            model.ForwardCompositional(x, t, new RegionalCaptions(zeros(1, 4, 4, 32), emptyRegion, g, gm, 2, 2))).ParamName);
        Assert.Equal("captionFeatures", Assert.Throws<ArgumentException>(() =>
            model.ForwardCompositional(x, t, new RegionalCaptions(zeros(1, 4, 4, 32), ones(1, 4, 4), zeros(2, 3, 32), ones(2, 3), 2, 2))).ParamName);
    }
}
