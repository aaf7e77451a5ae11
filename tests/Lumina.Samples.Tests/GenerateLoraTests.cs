using Lumina.Pipelines;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary><c>lumina generate --lora file[:strength]</c> (repeatable) run as a process on a tiny Lumina-Next model.</summary>
public sealed class GenerateLoraTests(TinyLuminaNextFolders models) : IClassFixture<TinyLuminaNextFolders>, IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-lora");

    public void Dispose() => _temp.Dispose();

    private string[] Args(string output, params string[] more) =>
        ["generate", "a red circle on the left", "--model", models.Diffusers, "-o", output, "--width", "32", "--height", "32", "--steps", "2", "--seed", "3", .. more];

    [Fact]
    public async Task LorasStackWithTheirStrengthsAndStrengthZeroIsTheBaseImage()
    {
        string comfy, kohya;
        using (var pipe = await LuminaPipeline.TextToImage().FromPretrained(models.Diffusers).BuildAsync())
        {
            var model = (Lumina.Models.DiT.NextDiT)pipe.Transformer;
            comfy = RandomLoras.WriteComfy(_temp.File("comfy.safetensors"), model, 1, ["attention.wq", "feed_forward.w1"]);
            kohya = RandomLoras.WriteKohya(_temp.File("kohya.safetensors"), model, 2, ["attention.wo"]);
        }

        var baseRun = await ProcessRun.LuminaAsync(Args(_temp.File("base.png")));
        Assert.True(baseRun.ExitCode == 0, baseRun.ToString());
        var off = await ProcessRun.LuminaAsync(Args(_temp.File("off.png"), "--lora", comfy + ":0"));
        Assert.True(off.ExitCode == 0, off.ToString());
        var one = await ProcessRun.LuminaAsync(Args(_temp.File("one.png"), "--lora", comfy));
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Contains("comfy.safetensors at strength 1: 4 weights patched", one.StdErr);
        var two = await ProcessRun.LuminaAsync(Args(_temp.File("two.png"), "--lora", comfy, "--lora", kohya + ":0.5"));
        Assert.True(two.ExitCode == 0, two.ToString());
        Assert.Contains("kohya.safetensors at strength 0.5: 2 weights patched", two.StdErr);

        Assert.Equal(Pixels("base.png"), Pixels("off.png"));
        Assert.NotEqual(Pixels("base.png"), Pixels("one.png"));
        Assert.NotEqual(Pixels("one.png"), Pixels("two.png"));
    }

    [Fact]
    public async Task BadLoraArgumentsAreOneLineErrors()
    {
        var missing = await ProcessRun.LuminaAsync(Args(_temp.File("x.png"), "--lora", "/no/such/lora.safetensors:0.5"));
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("/no/such/lora.safetensors", missing.StdErr);

        var dangling = await ProcessRun.LuminaAsync(Args(_temp.File("x.png"), "--lora", "a.safetensors:"));
        Assert.True(dangling.ExitCode == 1, dangling.ToString());

        // A Lumina-Image 2.0 LoRA on a Lumina-Next model: strict, names a key, no image written.
        var wrong = await ProcessRun.LuminaAsync(Args(_temp.File("wrong.png"), "--lora", Path.Combine(Golden.Directory, "lora_kohya.safetensors")));
        Assert.True(wrong.ExitCode == 2, wrong.ToString());
        Assert.Contains("lora_unet_", wrong.StdErr);
        Assert.DoesNotMatch(@"\n\s+at ", wrong.StdErr);
        Assert.False(File.Exists(_temp.File("wrong.png")));
    }

    private byte[] Pixels(string name)
    {
        using var image = Image.Load<Rgb24>(_temp.File(name));
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }
}
