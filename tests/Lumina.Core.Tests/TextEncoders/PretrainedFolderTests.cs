using System.Text.Json.Nodes;
using Lumina.Models.TextEncoders;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.TextEncoders;

/// <summary>
/// Hugging Face model folders: config.json plus model.safetensors, or sharded model-0000x-of-0000y.safetensors with
/// their index, in base-model or *ForCausalLM key layout. Built from the golden weights, checked against golden outputs.
/// </summary>
public class PretrainedFolderTests
{
    private static void WriteConfig(TempFolder folder, string part, string modelType)
    {
        var config = (JsonObject)Golden.Json(part)["config"]!.DeepClone();
        config["model_type"] = modelType;
        File.WriteAllText(folder.File("config.json"), config.ToJsonString());
    }

    private static List<KeyValuePair<string, Tensor>> ReadAll(string part, Func<string, string> rename)
    {
        using var golden = SafetensorsFile.Open(Golden.WeightsPath(part));
        return golden.Tensors.Select(t => new KeyValuePair<string, Tensor>(rename(t.Name), golden.Read(t.Name))).ToList();
    }

    private static void WriteSharded(TempFolder folder, List<KeyValuePair<string, Tensor>> tensors, int shards)
    {
        var map = new JsonObject();
        int per = (tensors.Count + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            string file = $"model-{s + 1:00000}-of-{shards:00000}.safetensors";
            var chunk = tensors.Skip(s * per).Take(per).ToList();
            SafetensorsWriter.Write(folder.File(file), chunk);
            foreach (var kv in chunk)
            {
                map[kv.Key] = file;
            }
        }

        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = map };
        File.WriteAllText(folder.File("model.safetensors.index.json"), index.ToJsonString());
    }

    [Fact]
    public void GemmaLoadsFromShardedIndexFolder()
    {
        using var folder = new TempFolder();
        WriteConfig(folder, "gemma", "gemma");
        var tensors = ReadAll("gemma", k => k);
        WriteSharded(folder, tensors, 3);
        tensors.ForEach(kv => kv.Value.Dispose());

        using var model = DecoderTextModel.FromPretrained(folder.Path);
        using var cases = Golden.OpenCases("gemma");
        using var ids = cases.Read("input_ids");
        using var mask = cases.Read("attention_mask");
        using var expected = cases.Read("out.hidden_states_m2");
        using var actual = model.HiddenState(ids, mask, -2);
        TensorAssert.Close(expected, actual, what: "out.hidden_states_m2 from sharded folder");
    }

    [Fact]
    public void LlamaLoadsFromCausalLmCheckpointWithPrefixAndLmHead()
    {
        using var folder = new TempFolder();
        WriteConfig(folder, "llama", "llama");
        var tensors = ReadAll("llama", k => "model." + k);
        tensors.Add(new("lm_head.weight", zeros(300, 64)));
        SafetensorsWriter.Write(folder.File("model.safetensors"), tensors);
        tensors.ForEach(kv => kv.Value.Dispose());

        using var model = DecoderTextModel.FromPretrained(folder.Path);
        using var cases = Golden.OpenCases("llama");
        using var ids = cases.Read("input_ids");
        using var expected = cases.Read("out.last_hidden_state");
        using var output = model.Forward(ids);
        TensorAssert.Close(expected, output.LastHiddenState, what: "out.last_hidden_state from causal-LM layout");
    }

    [Fact]
    public void MismatchedConfig_IsRefusedFromTheHeader_BeforeBuilding_NamingFileAndField()
    {
        using var folder = new TempFolder();
        var config = (JsonObject)Golden.Json("gemma2")["config"]!.DeepClone();
        config["model_type"] = "gemma2";
        config["num_hidden_layers"] = 4;
        File.WriteAllText(folder.File("config.json"), config.ToJsonString());
        var tensors = ReadAll("gemma2", k => k);
        SafetensorsWriter.Write(folder.File("model.safetensors"), tensors);
        tensors.ForEach(kv => kv.Value.Dispose());

        // The checkpoint's header holds 2 layers: refused before the model is built (the strict load would name layers.3.).
        var e = Assert.Throws<LuminaException>(() => DecoderTextModel.FromPretrained(folder.Path));
        Assert.Contains(folder.File("config.json"), e.Message);
        Assert.Contains("num_hidden_layers is 4", e.Message);
    }

    [Fact]
    public void WrongFamilyConfigIsRejected()
    {
        using var folder = new TempFolder();
        WriteConfig(folder, "llama", "llama");
        var e = Assert.Throws<InvalidDataException>(() => GemmaConfig.FromFile(folder.Path));
        Assert.Contains("llama", e.Message);
    }
}
