using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>Every out.* / trace.* entry of the golden part 'flagdit' (upstream lumina_t2i DiT_Llama).</summary>
public sealed class FlagDiTParityTests : IDisposable
{
    private readonly FlagDiT model;
    private readonly SafetensorsFile cases;

    public FlagDiTParityTests()
    {
        model = new FlagDiT(GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("flagdit"));
        model.eval();
        cases = Golden.OpenCases("flagdit");
    }

    internal static FlagDiTConfig GoldenConfig()
    {
        var c = Golden.Json("flagdit")["config"]!;
        return new FlagDiTConfig
        {
            PatchSize = (int)c["patch_size"]!, InChannels = (int)c["in_channels"]!, Dim = (int)c["dim"]!,
            Layers = (int)c["n_layers"]!, Heads = (int)c["n_heads"]!, KvHeads = (int?)c["n_kv_heads"],
            MultipleOf = (int)c["multiple_of"]!, NormEps = (double)c["norm_eps"]!, LearnSigma = (bool)c["learn_sigma"]!,
            QkNorm = (bool)c["qk_norm"]!, CaptionDim = (int)c["cap_feat_dim"]!,
            RopeScalingFactor = (double)c["rope_scaling_factor"]!, NtkFactor = (double)c["ntk_factor"]!,
        };
    }

    private Tensor Case(string name) => cases.Read(name);

    [Fact]
    public void ForwardWithEolTokensAndTracesMatchUpstream()
    {
        using var scope = NewDisposeScope();
        var traces = new Dictionary<string, Tensor>();
        var options = new FlagDiTForwardOptions { Trace = (name, t) => traces[name] = t.detach().clone().MoveToOuterDisposeScope() };
        Tensor output;
        using (no_grad()) output = model.Forward(Case("x"), Case("t"), Case("cap_feats"), Case("cap_mask"), options);
        TensorAssert.Close(Case("out.forward"), output, what: "out.forward");
        var names = cases.Tensors.Select(t => t.Name).Where(n => n.StartsWith("trace.forward.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(names);
        foreach (var name in names)
            TensorAssert.Close(Case(name), traces[name["trace.forward.".Length..]], what: name);
    }

    [Fact]
    public void ListInputMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        IReadOnlyList<Tensor> outputs;
        using (no_grad()) outputs = model.Forward([Case("x")[0], Case("x_small")], Case("t"), Case("cap_feats"), Case("cap_mask"));
        TensorAssert.Close(Case("out.list.0"), outputs[0], what: "out.list.0");
        TensorAssert.Close(Case("out.list.1"), outputs[1], what: "out.list.1");
    }

    [Fact]
    public void ForwardWithCfgPlainMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        Tensor output;
        using (no_grad()) output = UpstreamCfg.Run((x, t) => model.Forward(x, t, Case("cap_feats"), Case("cap_mask")), Case("x"), 0.5, 4.0);
        TensorAssert.Close(Case("out.cfg.plain"), output, what: "out.cfg.plain");
    }

    public void Dispose()
    {
        cases.Dispose();
        model.Dispose();
    }
}
