using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>Properties that follow from the spec rather than from one recorded output.</summary>
public sealed class NextDiTBehaviourTests
{
    [Fact]
    public void PaddedListItemEqualsItsOwnForwardBecausePaddingIsMaskedAsKeys()
    {
        using var scope = NewDisposeScope();
        using var model = new NextDiT(NextDiTParityTests.GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("nextdit"));
        var big = randn(4, 8, 12, generator: new Generator(1));
        var small = randn(4, 6, 4, generator: new Generator(2));
        var cap = randn(2, 5, 32, generator: new Generator(3));
        var mask = ones(2, 5, dtype: ScalarType.Int32);
        var t = tensor(new[] { 0.4f, 0.6f });
        using var _ = no_grad();
        var outputs = model.Forward([big, small], t, cap, mask);
        var alone = model.Forward(small.unsqueeze(0), t[1..], cap[1..], mask[1..]);
        TensorAssert.Close(alone[0], outputs[1], what: "padded item");
        var aloneBig = model.Forward(big.unsqueeze(0), t[..1], cap[..1], mask[..1]);
        TensorAssert.Close(aloneBig[0], outputs[0], what: "unpadded item");
    }

    [Fact]
    public void InvalidInputsThrowWithTheExpectedShape()
    {
        using var model = new NextDiT(NextDiTParityTests.GoldenConfig());
        var cap = zeros(2, 5, 32);
        var mask = ones(2, 5);
        Assert.Contains("[B, 4, H, W]", Assert.Throws<ArgumentException>(() => model.Forward(zeros(2, 3, 8, 8), zeros(2), cap, mask)).Message);
        Assert.Contains("multiples of the patch size", Assert.Throws<ArgumentException>(() => model.Forward(zeros(2, 4, 7, 8), zeros(2), cap, mask)).Message);
        Assert.Contains("Timesteps", Assert.Throws<ArgumentException>(() => model.Forward(zeros(2, 4, 8, 8), zeros(3), cap, mask)).Message);
        Assert.Contains("32", Assert.Throws<ArgumentException>(() => model.Forward(zeros(2, 4, 8, 8), zeros(2), zeros(2, 5, 16), mask)).Message);
        Assert.Contains("mask", Assert.Throws<ArgumentException>(() => model.Forward(zeros(2, 4, 8, 8), zeros(2), cap, ones(2, 4))).Message);
    }

    [Fact]
    public void BFloat16ModelRunsAndStaysCloseToFloat32()
    {
        using var scope = NewDisposeScope();
        using var model = new NextDiT(NextDiTParityTests.GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("nextdit"));
        using var half = new NextDiT(NextDiTParityTests.GoldenConfig(), dtype: ScalarType.BFloat16);
        half.LoadSafetensors(Golden.WeightsPath("nextdit"));
        using var cases = Golden.OpenCases("nextdit");
        using var _ = no_grad();
        var reference = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        var output = half.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        // bf16 keeps 8 bits of mantissa: a few percent of the output range, far from a layout or formula error.
        TensorAssert.Close(reference, output.to_type(ScalarType.Float32), atol: 0, rtol: 0.1, what: "bf16 vs fp32");
    }

    [Fact]
    public void ProportionalAttentionAtTheBaseLengthIsTheDefaultScale()
    {
        using var scope = NewDisposeScope();
        using var model = new NextDiT(NextDiTParityTests.GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("nextdit"));
        using var cases = Golden.OpenCases("nextdit");
        using var _ = no_grad();
        var (x, t, cap, mask) = (cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        var plain = model.Forward(x, t, cap, mask);
        // 16×12 latent, patch 2: N = 48 tokens; log_48(48) = 1 gives 1/sqrt(hd).
        TensorAssert.Close(plain, model.Forward(x, t, cap, mask, new NextDiTForwardOptions { BaseSequenceLength = 48 }), what: "base = N");
        var longer = model.Forward(x, t, cap, mask, new NextDiTForwardOptions { BaseSequenceLength = 16 });
        Assert.True((longer - plain).abs().max().item<float>() > 1e-4, "a sequence longer than the base must sharpen attention");
    }

    [Fact]
    public void FlagDiTRopeOptionsEqualTheSameFactorsInTheConfig()
    {
        using var scope = NewDisposeScope();
        using var cases = Golden.OpenCases("flagdit");
        using var model = new FlagDiT(FlagDiTParityTests.GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("flagdit"));
        using var configured = new FlagDiT(FlagDiTParityTests.GoldenConfig() with { RopeScalingFactor = 2.0, NtkFactor = 3.0 });
        configured.LoadSafetensors(Golden.WeightsPath("flagdit"));
        using var _ = no_grad();
        var (x, t, cap, mask) = (cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        var viaOptions = model.Forward(x, t, cap, mask, new FlagDiTForwardOptions { RopeScalingFactor = 2.0, NtkFactor = 3.0 });
        TensorAssert.Close(configured.Forward(x, t, cap, mask), viaOptions, what: "options = config");
        Assert.True((viaOptions - cases.Read("out.forward")).abs().max().item<float>() > 1e-4, "scaling must change the output");
    }
}
