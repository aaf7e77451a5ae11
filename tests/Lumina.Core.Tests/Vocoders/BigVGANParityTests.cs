using Lumina.Models.Vocoders;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Vocoders;

/// <summary>BigVGAN against upstream Lumina-T2Music (golden part <c>vocoder</c>), loaded strictly from weight_g/weight_v.</summary>
public sealed class BigVGANParityTests
{
    private static BigVGANConfig GoldenConfig() => BigVGANConfig.FromJson(Golden.Json("vocoder")["h"]!.ToJsonString(), "vocoder.json");

    [Fact]
    public void GoldenConfigIsSnakeBetaWithHop8()
    {
        var config = GoldenConfig();
        Assert.Equal("snakebeta", config.Activation);
        Assert.True(config.SnakeLogScale);
        Assert.Equal(8, config.HopLength);
    }

    [Fact]
    public void WaveformMatchesUpstreamAfterFoldingWeightNorm()
    {
        using var vocoder = new BigVGAN(GoldenConfig());
        var report = vocoder.LoadCheckpoint(Golden.WeightsPath("vocoder"));
        Assert.True(report.IsExactMatch);
        vocoder.eval();
        using var cases = Golden.OpenCases("vocoder");
        using var scope = NewDisposeScope();
        var wav = vocoder.Vocode(cases.Read("mel"));
        TensorAssert.Close(cases.Read("out.wav"), wav, what: "out.wav");
    }

    [Fact]
    public void EveryWeightNormPairIsFoldedAndNothingElseIsRenamed()
    {
        using var source = WeightNormFoldingSource.Open(Golden.WeightsPath("vocoder"));
        using var file = SafetensorsFile.Open(Golden.WeightsPath("vocoder"));
        var pairs = file.Tensors.Count(t => t.Name.EndsWith(".weight_g", StringComparison.Ordinal));
        Assert.Equal(pairs, source.FoldedWeights.Count);
        Assert.Equal(file.Tensors.Count - pairs, source.Tensors.Count);
        Assert.DoesNotContain(source.Tensors, t => t.Name.EndsWith("_g", StringComparison.Ordinal) || t.Name.EndsWith("_v", StringComparison.Ordinal));
        // g · v / ‖v‖: every output channel of the folded weight has norm |g|.
        using var scope = NewDisposeScope();
        var folded = source.Read("conv_pre.weight");
        var g = file.Read("conv_pre.weight_g").flatten();
        TensorAssert.Close(g.abs(), linalg.vector_norm(folded, 2, [1, 2]), what: "row norms of conv_pre.weight");
    }

    [Fact]
    public void FilterBuffersDesignedInCodeMatchTheCheckpoint()
    {
        using var fresh = new BigVGAN(GoldenConfig());
        var state = fresh.state_dict();
        using var file = SafetensorsFile.Open(Golden.WeightsPath("vocoder"));
        using var scope = NewDisposeScope();
        foreach (var key in new[] { "activation_post.upsample.filter", "activation_post.downsample.lowpass.filter" })
            TensorAssert.Close(file.Read(key), state[key], atol: 1e-7, rtol: 1e-6, what: key);
    }

    [Fact]
    public void SnakeVariantBuildsWithAlphaOnly()
    {
        var config = GoldenConfig() with { Activation = "snake", ResBlock = "2" };
        using var vocoder = new BigVGAN(config, new Device("meta"));
        var keys = vocoder.state_dict().Keys.ToList();
        Assert.Contains("activation_post.act.alpha", keys);
        Assert.DoesNotContain("activation_post.act.beta", keys);
        Assert.Contains("resblocks.0.convs.1.weight", keys);
    }

    [Fact]
    public void VocodeRejectsTheWrongMelBinsNamingTheShape()
    {
        using var vocoder = new BigVGAN(GoldenConfig());
        using var bad = zeros(1, 80, 10);
        var e = Assert.Throws<ArgumentException>(() => vocoder.Vocode(bad));
        Assert.Contains("[1, 80, 10]", e.Message);
    }
}
