using Lumina.Adapters;
using Lumina.Checkpoints;
using Lumina.Core.Tests.DiT;
using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Adapters;

/// <summary>
/// The Lumina-Image 2.0 transformer with each golden adapter applied through <see cref="LoraStack"/> matches upstream's
/// forward of the weights ComfyUI / diffusers produced (<c>out.forward.lora*</c>, <c>loha*</c>, <c>lokr*</c>).
/// </summary>
public sealed class LoraForwardTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly SafetensorsFile cases = Golden.OpenCases("lora");

    private readonly Lumina2Transformer model = LoadModel();

    private static Lumina2Transformer LoadModel()
    {
        var model = new Lumina2Transformer(GoldenLumina2.UpstreamConfig());
        Assert.True(Lumina2Checkpoint.Load(model, Golden.WeightsPath("lumina2")).Report.IsExactMatch);
        model.eval();
        return model;
    }

    public static TheoryData<string, double> LoraCases()
    {
        var data = new TheoryData<string, double>();
        foreach (var form in LoraGolden.LoraForms)
            foreach (var s in new[] { 1.0, 0.5 })
                data.Add(form, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(LoraCases))]
    public void EveryLoraFormMatchesTheReferenceForward(string form, double strength)
    {
        using var stack = new LoraStack(model);
        stack.Add(LoraGolden.File(form), strength);
        var error = TensorAssert.Close(Case($"out.forward.lora{strength:0.0}"), Forward(), what: $"{form} at {strength}");
        output.WriteLine($"{form} at {strength}: max abs error {error:E2}");
        stack.Clear();
    }

    [Theory]
    [InlineData("loha", 1.0)]
    [InlineData("loha", 0.5)]
    [InlineData("lokr", 1.0)]
    [InlineData("lokr", 0.5)]
    public void LoHaAndLoKrMatchComfyUIsForward(string kind, double strength)
    {
        using var stack = new LoraStack(model);
        stack.Add(LoraGolden.File($"lora_{kind}"), strength);
        var error = TensorAssert.Close(Case($"out.forward.{kind}{strength:0.0}"), Forward(), what: $"{kind} at {strength}");
        output.WriteLine($"{kind} at {strength}: max abs error {error:E2}");
        stack.Clear();
    }

    [Fact]
    public void RemovingTheAdaptersGivesTheBaseForwardAndWeightsBack()
    {
        using var weightsBefore = new DisposableState(model);
        using var baseline = Forward();
        TensorAssert.Close(Case("out.forward.base"), baseline, what: "base");
        using (var stack = new LoraStack(model))
        {
            stack.Add(LoraGolden.File("lora_kohya"), 1.0);
            stack.Add(LoraGolden.File("lora_lokr"), 0.5);
            using (var patched = Forward())
                Assert.True(patched.sub(baseline).abs().max().item<float>() > 0.1f);
            stack.Clear();
        }
        weightsBefore.AssertUnchanged(model);
        using var after = Forward();
        Assert.Equal(LoraGolden.Bytes(baseline), LoraGolden.Bytes(after));
    }

    private Tensor Case(string name) => cases.Read(name);

    private Tensor Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.Forward(Case("x"), Case("t"), Case("cap_feats"), Case("cap_mask")).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        model.Dispose();
        cases.Dispose();
    }

    private sealed class DisposableState : IDisposable
    {
        private readonly Dictionary<string, Tensor> copy;

        public DisposableState(Lumina2Transformer model) =>
            copy = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);

        public void AssertUnchanged(Lumina2Transformer model) =>
            LoraGolden.AssertBitwise(copy, model.state_dict(), "weights after Clear");

        public void Dispose()
        {
            foreach (var t in copy.Values) t.Dispose();
        }
    }
}
