using Lumina.Models.DiT;
using Lumina.Adapters;
using Lumina.Pipelines;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary><c>TextToImagePipeline.LoadLora</c> on a tiny Lumina-Next model: apply, stack, unload to the base bit for bit.</summary>
public sealed class LoraPipelineTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task ALoraChangesTheImageAndUnloadingRestoresTheBasePixels()
    {
        using var temp = new TempFolder();
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var model = ((NextDiT)pipe.Transformer);
        var first = WriteComfyLora(temp.File("a.safetensors"), model, seed: 1, targets: ["attention.wq", "attention.wo", "feed_forward.w1"]);
        var second = WriteKohyaLora(temp.File("b.safetensors"), model, seed: 2, targets: ["attention.wv", "feed_forward.w2"]);
        var weightsBefore = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.data<float>().ToArray());

        var request = TinyLuminaNextFolders.Request(seed: 5);
        using var baseImage = await pipe.GenerateAsync(request);

        var a = pipe.LoadLora(first);
        Assert.Equal(6, a.PatchedWeights.Count);
        using var withA = await pipe.GenerateAsync(request);
        var b = pipe.LoadLora(second, 0.5);
        using var withAB = await pipe.GenerateAsync(request);
        Assert.Equal([a, b], pipe.Loras);
        Assert.NotEqual(EndToEndTests.Pixels(baseImage.Images[0]), EndToEndTests.Pixels(withA.Images[0]));
        Assert.NotEqual(EndToEndTests.Pixels(withA.Images[0]), EndToEndTests.Pixels(withAB.Images[0]));

        pipe.SetLoraStrength(b, 0);
        using var bOff = await pipe.GenerateAsync(request);
        Assert.Equal(EndToEndTests.Pixels(withA.Images[0]), EndToEndTests.Pixels(bOff.Images[0]));

        pipe.UnloadLora(a);
        pipe.UnloadLora(b);
        Assert.Empty(pipe.Loras);
        using var restored = await pipe.GenerateAsync(request);
        Assert.Equal(baseImage.ToPng(0), restored.ToPng(0));
        foreach (var (name, value) in model.state_dict())
            Assert.Equal(weightsBefore[name], value.data<float>().ToArray());
    }

    [Fact]
    public async Task BuilderLorasApplyInOrderAndAreRecordedInThePng()
    {
        using var temp = new TempFolder();
        using var plain = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var model = (NextDiT)plain.Transformer;
        var first = WriteComfyLora(temp.File("a.safetensors"), model, seed: 1, targets: ["attention.wq", "feed_forward.w1"]);
        var second = WriteKohyaLora(temp.File("b.safetensors"), model, seed: 2, targets: ["attention.wv"]);
        var request = TinyLuminaNextFolders.Request(seed: 5);
        plain.LoadLora(first);
        plain.LoadLora(second, 0.5);
        using var expected = await plain.GenerateAsync(request);

        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithLora(first).WithLora(second, 0.5).BuildAsync();
        Assert.Equal([first, second], pipe.Loras.Select(h => h.SourcePath));
        using var result = await pipe.GenerateAsync(request);
        Assert.Equal(EndToEndTests.Pixels(expected.Images[0]), EndToEndTests.Pixels(result.Images[0]));
        Assert.Equal("a.safetensors:1, b.safetensors:0.5", result.Metadata[0].Loras);
        using var png = SixLabors.ImageSharp.Image.Load(result.ToPng(0));
        Assert.Equal("a.safetensors:1, b.safetensors:0.5", GenerationMetadata.ReadFrom(png)!.Loras);

        pipe.UnloadAllLoras();
        using var none = await pipe.GenerateAsync(request);
        Assert.Null(none.Metadata[0].Loras);
        Assert.Throws<FileNotFoundException>(() => LuminaPipeline.TextToImage().WithLora(temp.File("missing.safetensors")));
    }

    [Fact]
    public async Task ALumina2LoraOnALuminaNextPipelineIsRefusedByName()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var e = Assert.Throws<LoraMismatchException>(() => pipe.LoadLora(Path.Combine(Golden.Directory, "lora_kohya.safetensors")));
        Assert.Contains("lora_unet_layers_0_attention_qkv.lora_down.weight", e.UnmatchedKeys);
        Assert.Empty(pipe.Loras);
        Assert.Throws<FileNotFoundException>(() => pipe.LoadLora("/no/such.safetensors"));
        Assert.Throws<ArgumentOutOfRangeException>(() => pipe.LoadLora(Path.Combine(Golden.Directory, "lora_kohya.safetensors"), double.PositiveInfinity));
    }

    /// <summary>Writes a random ComfyUI-form LoRA (with alpha) for the linears of <paramref name="model"/> matching the targets.</summary>
    public static string WriteComfyLora(string path, nn.Module model, long seed, string[] targets) =>
        Write(path, model, seed, targets, m => ($"diffusion_model.{m}.lora_A.weight", $"diffusion_model.{m}.lora_B.weight", $"diffusion_model.{m}.alpha"));

    /// <summary>Writes a random kohya-form LoRA for the linears of <paramref name="model"/> matching the targets.</summary>
    public static string WriteKohyaLora(string path, nn.Module model, long seed, string[] targets) =>
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
