using Lumina.Testing;
using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>Lumina-T2I (Flag-DiT + LLaMA + SDXL VAE) from a tiny random original-layout folder.</summary>
public sealed class LuminaT2IEndToEndTests(TinyLuminaT2IFolders folders) : IClassFixture<TinyLuminaT2IFolders>
{
    [Fact]
    public async Task LoadsAsFlagDiTWithTheT2IDefaultsAndGeneratesDeterministicPngs()
    {
        using var pipe = await folders.Builder().WithSteps(2).BuildAsync();
        Assert.IsType<FlagDiT>(pipe.Transformer);
        Assert.Equal(OdeMethod.Euler, pipe.Settings.Solver); // upstream Lumina-T2I demo
        Assert.Equal(4224, ((FlagDiT)pipe.Transformer).BaseSequenceLength);

        var request = new TextToImageRequest("a red circle on the left") { Width = 48, Height = 32, Seed = 9 };
        using var a = await pipe.GenerateAsync(request);
        using var b = await pipe.GenerateAsync(request);
        using var c = await pipe.GenerateAsync(request with { Seed = 10 });
        using var png = Image.Load<Rgb24>(a.ToPng(0));
        Assert.Equal((48, 32), (png.Width, png.Height));
        Assert.Equal(a.ToPng(0), b.ToPng(0));
        Assert.NotEqual(EndToEndTests.Pixels(a.Images[0]), EndToEndTests.Pixels(c.Images[0]));
        Assert.Equal(OdeMethod.Euler, GenerationMetadata.ReadFrom(png)!.Solver);
    }

    [Fact]
    public async Task ExtrapolationPresetRunsAndChangesTheImage()
    {
        using var plain = await folders.Builder().WithSteps(2).BuildAsync();
        using var extrapolated = await folders.Builder().WithPreset(TextToImagePresets.Extrapolation with { Solver = OdeMethod.Euler }).WithSteps(2).BuildAsync();
        var request = new TextToImageRequest("a wide landscape") { Width = 32, Height = 32, Seed = 1, ScaleFactor = 2 };
        using var a = await plain.GenerateAsync(request with { ScaleFactor = null });
        using var b = await extrapolated.GenerateAsync(request);
        Assert.Equal(2.0, b.Metadata[0].ScaleFactor);
        Assert.NotEqual(EndToEndTests.Pixels(a.Images[0]), EndToEndTests.Pixels(b.Images[0]));
    }

    [Fact]
    public async Task APresetOfTheWrongFamilyIsNamed()
    {
        var e = await Assert.ThrowsAsync<LuminaException>(() => LuminaPipeline.TextToImage().FromPretrained(folders.Original)
            .WithTransformerPreset("NextDiT-2B-GQA").WithComponents(textEncoder: folders.LlamaFolder, vae: folders.VaeFolder).BuildAsync());
        Assert.Contains("FlagDiT-5B", e.Message);
    }
}
