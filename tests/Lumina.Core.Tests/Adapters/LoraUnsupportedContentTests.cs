using Lumina.Adapters;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Adapters;

/// <summary>Adapter content that would change the result if ignored is refused when the file is read, by feature and key.</summary>
public sealed class LoraUnsupportedContentTests
{
    private const string Module = "diffusion_model.layers.0.attention.out";

    [Theory]
    [InlineData(".dora_scale", "DoRA")]
    [InlineData(".lora_mid.weight", "Tucker-decomposed LoRA")]
    [InlineData(".hada_t1", "Tucker-decomposed LoHa")]
    [InlineData(".lokr_t2", "Tucker-decomposed LoKr")]
    [InlineData(".diff", "full-weight difference patches")]
    [InlineData(".diff_b", "full-weight difference patches")]
    [InlineData(".oft_blocks", "OFT")]
    [InlineData(".a1.weight", "GLoRA")]
    public void ExtraContentIsRefusedByName(string suffix, string feature)
    {
        using var temp = new TempFolder();
        var path = temp.File("adapter.safetensors");
        using (var a = randn(4, 64)) using (var b = randn(64, 4)) using (var extra = randn(64, 1))
            SafetensorsWriter.Write(path, [new($"{Module}.lora_A.weight", a), new($"{Module}.lora_B.weight", b), new(Module + suffix, extra)]);
        var e = Assert.Throws<LoraFormatException>(() => LoraFile.Load(path));
        Assert.Contains(feature, e.Message);
        Assert.Contains(Module + suffix, e.Message);
    }

    [Fact]
    public void ConvolutionFactorsAreRefused()
    {
        using var temp = new TempFolder();
        var path = temp.File("locon.safetensors");
        using (var a = randn(4, 64, 3, 3)) using (var b = randn(64, 4, 1, 1))
            SafetensorsWriter.Write(path, [new("lora_unet_x_embedder.lora_down.weight", a), new("lora_unet_x_embedder.lora_up.weight", b)]);
        var e = Assert.Throws<LoraFormatException>(() => LoraFile.Load(path));
        Assert.Contains("convolution LoRA", e.Message);
        Assert.Contains("lora_unet_x_embedder.lora_down.weight", e.Message);
    }

    [Fact]
    public void APlainLoraStillLoads()
    {
        using var temp = new TempFolder();
        var path = temp.File("plain.safetensors");
        using (var a = randn(4, 64)) using (var b = randn(64, 4))
            SafetensorsWriter.Write(path, [new($"{Module}.lora_A.weight", a), new($"{Module}.lora_B.weight", b)]);
        using var file = LoraFile.Load(path);
        Assert.Empty(file.UnusedKeys);
    }
}
