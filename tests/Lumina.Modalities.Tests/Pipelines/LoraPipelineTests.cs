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
        var first = RandomLoras.WriteComfy(temp.File("a.safetensors"), model, seed: 1, targets: ["attention.wq", "attention.wo", "feed_forward.w1"]);
        var second = RandomLoras.WriteKohya(temp.File("b.safetensors"), model, seed: 2, targets: ["attention.wv", "feed_forward.w2"]);
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
        var first = RandomLoras.WriteComfy(temp.File("a.safetensors"), model, seed: 1, targets: ["attention.wq", "feed_forward.w1"]);
        var second = RandomLoras.WriteKohya(temp.File("b.safetensors"), model, seed: 2, targets: ["attention.wv"]);
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
}
