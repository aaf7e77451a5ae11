using Lumina.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Testing;

/// <summary>Random LoRA files in the ComfyUI and kohya key forms, for the linears of a model (pipeline and CLI tests).</summary>
public static class RandomLoras
{
    /// <summary>Writes a random ComfyUI-form LoRA (with alpha) for the linears of <paramref name="model"/> matching the targets.</summary>
    public static string WriteComfy(string path, nn.Module model, long seed, string[] targets) =>
        Write(path, model, seed, targets, m => ($"diffusion_model.{m}.lora_A.weight", $"diffusion_model.{m}.lora_B.weight", $"diffusion_model.{m}.alpha"));

    /// <summary>Writes a random kohya-form LoRA for the linears of <paramref name="model"/> matching the targets.</summary>
    public static string WriteKohya(string path, nn.Module model, long seed, string[] targets) =>
        Write(path, model, seed, targets, m =>
        {
            var k = "lora_unet_" + m.Replace('.', '_');
            return ($"{k}.lora_down.weight", $"{k}.lora_up.weight", $"{k}.alpha");
        });

    private static string Write(string path, nn.Module model, long seed, string[] targets, Func<string, (string Down, string Up, string Alpha)> names)
    {
        using var g = new Generator((ulong)seed);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (key, w) in model.state_dict())
        {
            if (!key.EndsWith(".weight", StringComparison.Ordinal) || w.dim() != 2) continue;
            var module = key[..^".weight".Length];
            if (!targets.Any(t => module.EndsWith("." + t, StringComparison.Ordinal))) continue;
            var (down, up, alpha) = names(module);
            tensors.Add(new(down, randn([2, w.shape[1]], generator: g).mul_(0.3)));
            tensors.Add(new(up, randn([w.shape[0], 2], generator: g).mul_(0.3)));
            tensors.Add(new(alpha, tensor(1.0f)));
        }
        SafetensorsWriter.Write(path, tensors);
        foreach (var (_, t) in tensors) t.Dispose();
        return path;
    }
}
