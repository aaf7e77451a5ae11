using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>
/// Every forward out.* and trace.* of the golden part 'lumina2' (upstream Lumina-Image-2.0 NextDiT). The out.cfg.*
/// cases are guidance, tested in Lumina.Sampling; the batched forwards they run (trace.cfg.t*.model_out) are here.
/// </summary>
public sealed class Lumina2ParityTests : IDisposable
{
    private readonly Lumina2Transformer model;
    private readonly SafetensorsFile cases;

    public Lumina2ParityTests()
    {
        model = new Lumina2Transformer(GoldenLumina2.UpstreamConfig());
        var result = Lumina2Checkpoint.Load(model, Golden.WeightsPath("lumina2")); // strict: every key (norm_final too), no extras
        Assert.Equal(Lumina2CheckpointLayout.Upstream, result.Layout);
        Assert.True(result.Report.IsExactMatch);
        model.eval();
        cases = Golden.OpenCases("lumina2");
    }

    private Tensor Case(string name) => cases.Read(name);

    [Fact]
    public void ForwardAndEveryTraceMatchUpstream()
    {
        using var scope = NewDisposeScope();
        var traces = new Dictionary<string, Tensor>();
        var options = new DiTForwardOptions { Trace = (name, t) => traces[name] = t.detach().clone().MoveToOuterDisposeScope() };
        Tensor output;
        using (no_grad())
        {
            // Through the DiT contract, as the sampling loop calls it.
            using var captions = new CaptionEmbeddings(Case("cap_feats"), Case("cap_mask"));
            output = ((IDiffusionTransformer)model).Forward(new DiTInput(Case("x"), Case("t")) { Captions = captions, Options = options });
        }
        TensorAssert.Close(Case("out.forward"), output, what: "out.forward");

        var traceNames = cases.Tensors.Select(t => t.Name).Where(n => n.StartsWith("trace.forward.", StringComparison.Ordinal)).ToList();
        Assert.Equal(17, traceNames.Count);
        foreach (var name in traceNames)
        {
            var key = name["trace.forward.".Length..];
            Assert.True(traces.ContainsKey(key), $"no trace for {key}");
            TensorAssert.Close(Case(name), traces[key], what: name);
        }
    }

    [Fact]
    public void ListInputOfDifferentSizesMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        var traces = new Dictionary<string, Tensor>();
        var options = new DiTForwardOptions { Trace = (name, t) => traces[name] = t.detach().clone().MoveToOuterDisposeScope() };
        IReadOnlyList<Tensor> outputs;
        using (no_grad()) outputs = model.Forward([Case("x")[0], Case("x_small")], Case("t"), Case("cap_feats"), Case("cap_mask"), options);
        Assert.Equal(2, outputs.Count);
        TensorAssert.Close(Case("out.list.0"), outputs[0], what: "out.list.0");
        TensorAssert.Close(Case("out.list.1"), outputs[1], what: "out.list.1");
        TensorAssert.Close(Case("trace.list.position_ids"), traces["position_ids"], what: "trace.list.position_ids");
        TensorAssert.Close(Case("trace.list.freqs_cis"), traces["freqs_cis"], what: "trace.list.freqs_cis");
    }

    [Theory]
    [InlineData("0.3")]
    [InlineData("0.8")]
    [InlineData("0.5")]
    [InlineData("0.6")]
    [InlineData("0.45")]
    public void TheBatchedCfgForwardMatchesUpstream(string t)
    {
        using var scope = NewDisposeScope();
        var z = Case("z_cfg");
        var time = float.Parse(t, System.Globalization.CultureInfo.InvariantCulture);
        Tensor output;
        using (no_grad()) output = model.Forward(cat([z, z], 0), tensor(new[] { time, time }), Case("cap_feats"), Case("cap_mask"));
        TensorAssert.Close(Case($"trace.cfg.t{t}.model_out"), output, what: $"trace.cfg.t{t}.model_out");
    }

    [Fact]
    public void PatchVectorsAreOrderedRowColumnChannel()
    {
        using var scope = NewDisposeScope();
        var x = arange(2 * 3 * 4 * 4, dtype: float32).reshape(2, 3, 4, 4);
        var patches = Lumina.Nn.Patchify.ToPatchesChannelsLast(x, 2); // [2, 2, 2, 12]
        // Patch (0, 1) of image 1: vector index (ph·2 + pw)·3 + c holds x[1, c, ph, 2 + pw].
        for (var ph = 0; ph < 2; ph++)
            for (var pw = 0; pw < 2; pw++)
                for (var c = 0; c < 3; c++)
                    Assert.Equal(x[1, c, ph, 2 + pw].item<float>(), patches[1, 0, 1, (ph * 2 + pw) * 3 + c].item<float>());
        TensorAssert.Equal(x, Lumina.Nn.Patchify.FromPatches(patches.reshape(2, 4, 12), 2, 4, 4, 3));
    }

    [Fact]
    public void BadInputsAreRejectedWithTheReason()
    {
        using var scope = NewDisposeScope();
        var x = Case("x");
        var mask = Case("cap_mask").clone();
        mask[1, 0] = tensor(0); // a hole at the front: not right-padded
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(x, Case("t"), Case("cap_feats"), mask));
        Assert.Contains("right-padded", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => model.Forward(x.narrow(1, 0, 4), Case("t"), Case("cap_feats"), Case("cap_mask")));
        Assert.Contains("[B, 16, H, W]", ex.Message);
        var wide = zeros(2, 16, 130, 8); // 65 patch rows > axes_lens[1] = 64
        ex = Assert.Throws<ArgumentException>(() => model.Forward(wide, Case("t"), Case("cap_feats"), Case("cap_mask")));
        Assert.Contains("RoPE", ex.Message);
        Assert.False(model.Supports(DiTConditioningKind.Regions));
    }

    public void Dispose()
    {
        cases.Dispose();
        model.Dispose();
    }
}
