using Lumina.Testing;
using Lumina.Pipelines;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>img2img (upstream's mini sampler): strength cuts the grid, the start mixes noise and the encoded image.</summary>
public sealed class ImageToImageTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task StrengthOneIsTextToImageAndLowerStrengthsFollowTheImage()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSteps(4).BuildAsync();
        using var source = await pipe.GenerateAsync(new TextToImageRequest("a blue square") { Width = 32, Height = 48, Seed = 1 });
        using var other = new Image<Rgb24>(32, 48, new Rgb24(200, 30, 30));
        var prompt = "a red circle";

        using var t2i = await pipe.GenerateAsync(new TextToImageRequest(prompt) { Width = 32, Height = 48, Seed = 5 });
        using var full = await pipe.GenerateAsync(new ImageToImageRequest(prompt, source.Images[0]) { Seed = 5, Strength = 1.0 });
        Assert.Equal(EndToEndTests.Pixels(t2i.Images[0]), EndToEndTests.Pixels(full.Images[0]));

        using var a = await pipe.GenerateAsync(new ImageToImageRequest(prompt, source.Images[0]) { Seed = 5, Strength = 0.5 });
        using var again = await pipe.GenerateAsync(new ImageToImageRequest(prompt, source.Images[0]) { Seed = 5, Strength = 0.5 });
        using var fromOther = await pipe.GenerateAsync(new ImageToImageRequest(prompt, other) { Seed = 5, Strength = 0.5 });
        Assert.Equal((32, 48), (a.Images[0].Width, a.Images[0].Height));
        Assert.Equal(a.ToPng(0), again.ToPng(0));
        Assert.NotEqual(EndToEndTests.Pixels(t2i.Images[0]), EndToEndTests.Pixels(a.Images[0]));
        Assert.NotEqual(EndToEndTests.Pixels(fromOther.Images[0]), EndToEndTests.Pixels(a.Images[0]));
        Assert.Equal(0.5, GenerationMetadata.ReadFrom(Image.Load<Rgb24>(a.ToPng(0)))!.Strength);
    }

    [Fact]
    public async Task BadImg2ImgRequestsNameTheField()
    {
        using var image = new Image<Rgb24>(32, 32);
        using var odd = new Image<Rgb24>(30, 32);
        Assert.Equal("Strength", Assert.ThrowsAny<ArgumentException>(new ImageToImageRequest("x", image) { Strength = 0 }.Validate).ParamName);
        Assert.Equal("Strength", Assert.ThrowsAny<ArgumentException>(new ImageToImageRequest("x", image) { Strength = 1.5 }.Validate).ParamName);
        Assert.Equal("Strength", Assert.ThrowsAny<ArgumentException>(new ImageToImageRequest("x", image) { Strength = double.NaN }.Validate).ParamName);
        Assert.Equal("Image", Assert.ThrowsAny<ArgumentException>(new ImageToImageRequest("x", null!).Validate).ParamName);
        Assert.Equal("Image", Assert.ThrowsAny<ArgumentException>(new ImageToImageRequest("x", image) { Width = 64 }.Validate).ParamName);
        Assert.Equal("Width", Assert.ThrowsAny<ArgumentException>(new ImageToImageRequest("x", odd).Validate).ParamName);

        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSteps(2).BuildAsync();
        // 3 grid points, strength 0.1: the start index int(3·0.9) = 2 leaves no step.
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => pipe.GenerateAsync(new ImageToImageRequest("x", image) { Strength = 0.1 }));
        Assert.Equal("Strength", e.ParamName);
    }
}
