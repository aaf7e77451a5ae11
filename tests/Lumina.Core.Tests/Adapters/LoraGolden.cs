using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using Xunit.Sdk;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Adapters;

/// <summary>The golden lora part: the base weights, the reference merge, and byte-level comparison.</summary>
internal static class LoraGolden
{
    /// <summary>Every community file form of the one golden adapter (ComfyUI and diffusers both merge them to lora.merged).</summary>
    public static readonly string[] LoraForms =
        ["lora_kohya", "lora_kohya_bf16", "lora_comfy", "lora_comfy_alpha", "lora_peft", "lora_peft_bf16", "lora_peft_alpha"];

    public static string File(string name) => Path.Combine(Golden.Directory, name + ".safetensors");

    /// <summary>lumina2.weights as a fresh dictionary of CPU tensors.</summary>
    public static Dictionary<string, Tensor> BaseWeights() => ReadAll(Golden.WeightsPath("lumina2"));

    public static Dictionary<string, Tensor> ReadAll(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name), StringComparer.Ordinal);
    }

    public static void Dispose(Dictionary<string, Tensor> weights)
    {
        foreach (var t in weights.Values) t.Dispose();
    }

    /// <summary>Fails unless every key holds exactly the same bytes in both dictionaries.</summary>
    public static void AssertBitwise(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        var differing = new List<string>();
        foreach (var (key, e) in expected)
        {
            var a = actual[key];
            if (e.dtype != a.dtype || !e.shape.SequenceEqual(a.shape) || !Bytes(e).AsSpan().SequenceEqual(Bytes(a)))
            {
                using var d = (a.to(float64) - e.to(float64)).abs().max();
                differing.Add($"{key} (max |Δ| {d.item<double>():E2})");
            }
        }
        if (differing.Count > 0)
            throw new XunitException($"{what}: {differing.Count} weights differ from the reference bit for bit: {string.Join(", ", differing.Take(10))}");
    }

    public static byte[] Bytes(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.bytes.ToArray();
    }
}
