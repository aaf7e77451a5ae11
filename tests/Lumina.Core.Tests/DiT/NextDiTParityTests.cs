using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>Every out.* / trace.* / freqs_cis.* entry of the golden part 'nextdit' (upstream lumina_next_t2i NextDiT).</summary>
public sealed class NextDiTParityTests : IDisposable
{
    private readonly NextDiT model;
    private readonly SafetensorsFile cases;

    public NextDiTParityTests()
    {
        model = new NextDiT(GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("nextdit")); // strict: every key, no extras, same shapes
        model.eval();
        cases = Golden.OpenCases("nextdit");
    }

    internal static NextDiTConfig GoldenConfig()
    {
        var c = Golden.Json("nextdit")["config"]!;
        return new NextDiTConfig
        {
            PatchSize = (int)c["patch_size"]!, InChannels = (int)c["in_channels"]!, Dim = (int)c["dim"]!,
            Layers = (int)c["n_layers"]!, Heads = (int)c["n_heads"]!, KvHeads = (int?)c["n_kv_heads"],
            MultipleOf = (int)c["multiple_of"]!, NormEps = (double)c["norm_eps"]!, LearnSigma = (bool)c["learn_sigma"]!,
            QkNorm = (bool)c["qk_norm"]!, CaptionDim = (int)c["cap_feat_dim"]!, ScaleFactor = (double)c["scale_factor"]!,
        };
    }

    private Tensor Case(string name) => cases.Read(name);

    [Fact]
    public void ForwardAndTracesMatchUpstream()
    {
        using var scope = NewDisposeScope();
        var traces = new Dictionary<string, Tensor>();
        var options = new NextDiTForwardOptions { Trace = (name, t) => traces[name] = t.detach().clone().MoveToOuterDisposeScope() };
        Tensor output;
        using (no_grad()) output = model.Forward(Case("x"), Case("t"), Case("cap_feats"), Case("cap_mask"), options);
        TensorAssert.Close(Case("out.forward"), output, what: "out.forward");

        var traceNames = cases.Tensors.Select(t => t.Name).Where(n => n.StartsWith("trace.forward.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(traceNames);
        foreach (var name in traceNames)
        {
            var key = name["trace.forward.".Length..];
            Assert.True(traces.ContainsKey(key), $"no trace for {key}");
            TensorAssert.Close(Case(name), traces[key], what: name);
        }
    }

    [Fact]
    public void RotaryTableMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        TensorAssert.Close(Case("freqs_cis.8x6"), view_as_real(model.RotaryTable(8, 6)), what: "freqs_cis.8x6");
        var scaled = new NextDiTForwardOptions { ScaleFactor = 1.5, ScaleWatershed = 0.5 };
        TensorAssert.Close(Case("freqs_cis.t0.2.8x6"), view_as_real(model.RotaryTable(8, 6, 0.2f, scaled)), what: "freqs_cis.t0.2.8x6");
    }

    [Fact]
    public void ListInputPadsWithPadTokenAndMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        var x = Case("x");
        IReadOnlyList<Tensor> outputs;
        using (no_grad()) outputs = model.Forward([x[0], Case("x_small")], Case("t"), Case("cap_feats"), Case("cap_mask"));
        Assert.Equal(2, outputs.Count);
        TensorAssert.Close(Case("out.list.0"), outputs[0], what: "out.list.0");
        TensorAssert.Close(Case("out.list.1"), outputs[1], what: "out.list.1");
    }

    [Fact]
    public void ForwardWithCfgTimeAwareScalingAndProportionalAttentionMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        var options = new NextDiTForwardOptions { ScaleFactor = 1.5, ScaleWatershed = 0.5, BaseSequenceLength = 32 };
        Tensor output;
        using (no_grad()) output = UpstreamCfg.Run((x, t) => model.Forward(x, t, Case("cap_feats"), Case("cap_mask"), options), Case("x"), 0.2, 4.0);
        TensorAssert.Close(Case("out.cfg.t0.2"), output, what: "out.cfg.t0.2");
    }

    [Fact]
    public void ForwardWithCfgPlainMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        Tensor output;
        using (no_grad()) output = UpstreamCfg.Run((x, t) => model.Forward(x, t, Case("cap_feats"), Case("cap_mask")), Case("x"), 0.5, 4.0);
        TensorAssert.Close(Case("out.cfg.plain"), output, what: "out.cfg.plain");
        // Channel 3 is not guided: it keeps each half's own output, so the halves differ there but agree on 0..2.
        var half = output.shape[0] / 2;
        TensorAssert.Equal(output.narrow(0, 0, half).narrow(1, 0, 3), output.narrow(0, half, half).narrow(1, 0, 3));
        Assert.False(output.narrow(0, 0, half).narrow(1, 3, 1).eq(output.narrow(0, half, half).narrow(1, 3, 1)).all().item<bool>());
    }

    public void Dispose()
    {
        cases.Dispose();
        model.Dispose();
    }
}
