using Lumina.Models.TextEncoders;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.TextEncoders;

/// <summary>Parity with transformers' T5EncoderModel (FLAN-T5 style gated-GELU) on the golden tiny config.</summary>
public class T5ParityTests
{
    private static T5Config Config => T5Config.FromJson(Golden.Json("t5")["config"]!.ToJsonString());

    [Fact]
    public void MatchesLastHiddenStateWithMask()
    {
        using var model = new T5EncoderModel(Config);
        model.LoadSafetensors(Golden.WeightsPath("t5"));
        using var cases = Golden.OpenCases("t5");
        using var ids = cases.Read("input_ids");
        using var mask = cases.Read("attention_mask");
        using var output = model.Forward(ids, mask, outputHiddenStates: true);
        using var expected = cases.Read("out.last_hidden_state");
        TensorAssert.Close(expected, output.LastHiddenState, what: "out.last_hidden_state");
        Assert.Equal(Config.NumLayers + 1, output.HiddenStates.Count);
        Assert.Same(output.LastHiddenState, output.HiddenState(-1));
        Assert.Single(cases.Tensors, t => t.Name.StartsWith("out.", StringComparison.Ordinal) || t.Name.StartsWith("trace.", StringComparison.Ordinal));

        // The mask matters: without it the padded row attends to its padding and changes.
        using var unmasked = model.Forward(ids);
        Assert.Throws<Xunit.Sdk.XunitException>(() => TensorAssert.Close(expected, unmasked.LastHiddenState));
    }

    [Fact]
    public void EmbeddingIsTiedAndLoadsFromACheckpointThatStoresItOnce()
    {
        using var temp = new TempFolder();
        string path = temp.File("encoder-only-shared.safetensors");
        using (var golden = SafetensorsFile.Open(Golden.WeightsPath("t5")))
        {
            var tensors = golden.Tensors.Where(t => t.Name != "encoder.embed_tokens.weight")
                .Select(t => new KeyValuePair<string, Tensor>(t.Name, golden.Read(t.Name))).ToList();
            // A full encoder-decoder file also carries decoder weights, which the encoder must skip.
            tensors.Add(new("decoder.final_layer_norm.weight", ones(64)));
            SafetensorsWriter.Write(path, tensors);
            foreach (var kv in tensors)
            {
                kv.Value.Dispose();
            }
        }

        using var model = new T5EncoderModel(Config);
        var report = model.LoadCheckpoint(path);
        Assert.Contains("decoder.final_layer_norm.weight", report.Skipped);
        var state = model.state_dict();
        Assert.Equal(state["shared.weight"].Handle, state["encoder.embed_tokens.weight"].Handle);

        using var cases = Golden.OpenCases("t5");
        using var ids = cases.Read("input_ids");
        using var mask = cases.Read("attention_mask");
        using var output = model.Forward(ids, mask);
        using var expected = cases.Read("out.last_hidden_state");
        TensorAssert.Close(expected, output.LastHiddenState);
    }

    [Fact]
    public void StrictLoadStillReportsMissingEncoderKeys()
    {
        using var temp = new TempFolder();
        string path = temp.File("broken.safetensors");
        using (var golden = SafetensorsFile.Open(Golden.WeightsPath("t5")))
        {
            var tensors = golden.Tensors.Where(t => t.Name != "encoder.final_layer_norm.weight")
                .Select(t => new KeyValuePair<string, Tensor>(t.Name, golden.Read(t.Name))).ToList();
            SafetensorsWriter.Write(path, tensors);
            foreach (var kv in tensors)
            {
                kv.Value.Dispose();
            }
        }

        using var model = new T5EncoderModel(Config);
        var e = Assert.Throws<CheckpointMismatchException>(() => model.LoadCheckpoint(path));
        Assert.Contains("encoder.final_layer_norm.weight", e.Message);
    }
}
