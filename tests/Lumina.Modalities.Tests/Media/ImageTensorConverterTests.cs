using Lumina.Media;
using Lumina.Models.Autoencoders;
using Lumina.Tensors;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Media;

public sealed class ImageTensorConverterTests
{
    [Fact]
    public void PngWrittenFromADecodedLatentReadsBackWithTheSamePixels()
    {
        var config = AutoencoderKLConfig.FromJson(Golden.Json("vae")["config"]!.ToJsonString());
        using var vae = new AutoencoderKL(config);
        vae.LoadSafetensors(Golden.WeightsPath("vae"));
        using var cases = Golden.OpenCases("vae");
        using var scope = NewDisposeScope();
        var decoded = vae.Decode(cases.Read("z"));
        var values = decoded.contiguous().data<float>().ToArray();
        int h = (int)decoded.shape[2], w = (int)decoded.shape[3];

        using var folder = new TempFolder();
        var path = folder.File("decoded.png");
        using (var image = ImageTensorConverter.ToImage(decoded))
            image.SaveAsPng(path);

        using var readBack = Image.Load<Rgb24>(path);
        Assert.Equal((w, h), (readBack.Width, readBack.Height));
        var clipped = 0;
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            var p = readBack[x, y];
            Assert.Equal(Expected(values[(0 * h + y) * w + x]), p.R);
            Assert.Equal(Expected(values[(1 * h + y) * w + x]), p.G);
            Assert.Equal(Expected(values[(2 * h + y) * w + x]), p.B);
            if (p.R is 0 or 255) clipped++;
        }
        // The tiny random VAE decodes beyond [-1, 1] in places, so clamping is exercised too.
        Assert.InRange(clipped, 1, w * h - 1);
    }

    // The stated mapping, written out independently: round-half-even(255 · clamp((x + 1) / 2, 0, 1)).
    private static byte Expected(float x) => (byte)Math.Round(Math.Clamp((x + 1f) / 2f, 0f, 1f) * 255f, MidpointRounding.ToEven);

    [Fact]
    public void ImagesBecomeTensorsInMinusOneToOneAndBackUnchanged()
    {
        using var image = new Image<Rgb24>(5, 3);
        for (var y = 0; y < 3; y++)
        for (var x = 0; x < 5; x++)
            image[x, y] = new Rgb24((byte)(x * 60), (byte)(y * 120), (byte)(255 - x * 50 - y));
        using var scope = NewDisposeScope();
        var t = ImageTensorConverter.FromImage(image);
        Assert.Equal([1L, 3, 3, 5], t.shape);
        Assert.Equal(-1f, t[0, 0, 0, 0].item<float>());           // R = 0
        Assert.Equal(240 / 127.5f - 1, t[0, 1, 2, 0].item<float>(), 6); // G = 240
        Assert.Equal(1f, t[0, 2, 0, 0].item<float>());            // B = 255
        using var back = ImageTensorConverter.ToImage(t);
        for (var y = 0; y < 3; y++)
        for (var x = 0; x < 5; x++)
            Assert.Equal(image[x, y], back[x, y]);
    }

    [Fact]
    public void AnImageGoesThroughTheVaeEncoderForImg2Img()
    {
        var config = AutoencoderKLConfig.FromJson(Golden.Json("vae")["config"]!.ToJsonString());
        using var vae = new AutoencoderKL(config);
        vae.LoadSafetensors(Golden.WeightsPath("vae"));
        using var image = new Image<Rgb24>(24, 32, new Rgb24(200, 30, 90));
        using var scope = NewDisposeScope();
        var latents = vae.EncodeToLatents(ImageTensorConverter.FromImage(image), new Generator(0));
        Assert.Equal([1L, 4, 16, 12], latents.shape);
    }

    [Fact]
    public void WrongShapesAreRejectedWithTheShape()
    {
        using var bad = zeros(1, 4, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => ImageTensorConverter.ToImages(bad));
        Assert.Contains("[1, 4, 8, 8]", e.Message);
        using var a = new Image<Rgb24>(4, 4);
        using var b = new Image<Rgb24>(4, 5);
        Assert.Throws<ArgumentException>(() => ImageTensorConverter.FromImages([a, b]));
    }
}
