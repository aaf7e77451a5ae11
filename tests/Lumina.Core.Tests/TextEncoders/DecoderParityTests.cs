using Lumina.Models.TextEncoders;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.TextEncoders;

/// <summary>
/// Parity with transformers' GemmaModel, Gemma2Model and LlamaModel (eager attention) on the golden tiny configs:
/// weights loaded strictly from the golden files, every out.* and trace.* entry compared.
/// </summary>
public class DecoderParityTests
{
    private static DecoderTextModel LoadGemma()
    {
        var model = new DecoderTextModel(GemmaConfig.FromJson(Golden.Json("gemma")["config"]!.ToJsonString()));
        model.LoadSafetensors(Golden.WeightsPath("gemma"));
        return model;
    }

    [Fact]
    public void GemmaMatchesEveryOutputAndTrace()
    {
        using var model = LoadGemma();
        using var cases = Golden.OpenCases("gemma");
        using var ids = cases.Read("input_ids");
        using var mask = cases.Read("attention_mask");
        using var output = model.Forward(ids, mask, outputHiddenStates: true);

        Assert.Equal(4, output.HiddenStates.Count);
        using (var expected = cases.Read("out.last_hidden_state"))
        {
            TensorAssert.Close(expected, output.LastHiddenState, what: "out.last_hidden_state");
        }

        using (var expected = cases.Read("out.hidden_states_m2"))
        {
            TensorAssert.Close(expected, output.HiddenState(-2), what: "out.hidden_states_m2");
            using var direct = model.HiddenState(ids, mask, -2);
            TensorAssert.Close(expected, direct, what: "out.hidden_states_m2 via HiddenState(-2)");
        }

        for (int i = 0; i < 4; i++)
        {
            using var expected = cases.Read($"trace.hidden_states.{i}");
            TensorAssert.Close(expected, output.HiddenStates[i], what: $"trace.hidden_states.{i}");
        }

        Assert.Equal(
            2 + 4,
            cases.Tensors.Count(t => t.Name.StartsWith("out.", StringComparison.Ordinal) || t.Name.StartsWith("trace.", StringComparison.Ordinal)));
    }

    [Fact]
    public void Gemma2MatchesEveryOutput()
    {
        using var model = new DecoderTextModel(Gemma2Config.FromJson(Golden.Json("gemma2")["config"]!.ToJsonString()));
        model.LoadSafetensors(Golden.WeightsPath("gemma2"));
        using var cases = Golden.OpenCases("gemma2");
        using var ids = cases.Read("input_ids");
        using var mask = cases.Read("attention_mask");
        using var output = model.Forward(ids, mask, outputHiddenStates: true);

        using (var expected = cases.Read("out.last_hidden_state"))
        {
            TensorAssert.Close(expected, output.LastHiddenState, what: "out.last_hidden_state");
        }

        using (var expected = cases.Read("out.hidden_states_m2"))
        {
            TensorAssert.Close(expected, output.HiddenState(-2), what: "out.hidden_states_m2");
            using var direct = model.HiddenState(ids, mask, -2);
            TensorAssert.Close(expected, direct, what: "out.hidden_states_m2 via HiddenState(-2)");
        }

        Assert.Equal(2, cases.Tensors.Count(t => t.Name.StartsWith("out.", StringComparison.Ordinal) || t.Name.StartsWith("trace.", StringComparison.Ordinal)));
    }

    [Fact]
    public void LlamaMatchesWithoutMask()
    {
        using var model = new DecoderTextModel(LlamaConfig.FromJson(Golden.Json("llama")["config"]!.ToJsonString()));
        model.LoadSafetensors(Golden.WeightsPath("llama"));
        using var cases = Golden.OpenCases("llama");
        using var ids = cases.Read("input_ids");
        using var output = model.Forward(ids);
        using var expected = cases.Read("out.last_hidden_state");
        TensorAssert.Close(expected, output.LastHiddenState, what: "out.last_hidden_state");
        Assert.Single(cases.Tensors, t => t.Name.StartsWith("out.", StringComparison.Ordinal) || t.Name.StartsWith("trace.", StringComparison.Ordinal));
    }

    [Fact]
    public void AcceptsInt32IdsAndBoolMask()
    {
        using var model = LoadGemma();
        using var cases = Golden.OpenCases("gemma");
        using var ids = cases.Read("input_ids");
        using var mask = cases.Read("attention_mask");
        using var ids32 = ids.to(ScalarType.Int32);
        using var boolMask = mask.to(ScalarType.Bool);
        using var expected = cases.Read("out.hidden_states_m2");
        using var actual = model.HiddenState(ids32, boolMask, -2);
        TensorAssert.Close(expected, actual);
    }

    [Fact]
    public void RejectsIdsOutsideTheVocabularyAndMisshapenMasks()
    {
        using var model = LoadGemma();
        using var bad = tensor(new long[] { 1, 300 }, new long[] { 1, 2 });
        var e = Assert.Throws<ArgumentException>(() => model.Forward(bad));
        Assert.Contains("[0, 300)", e.Message);
        using var ids = tensor(new long[] { 2, 5, 7 }, new long[] { 1, 3 });
        using var mask = ones(1, 2, dtype: ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => model.Forward(ids, mask));
        using var flat = tensor(new long[] { 2, 5, 7 });
        Assert.Throws<ArgumentException>(() => model.Forward(flat));
    }
}
