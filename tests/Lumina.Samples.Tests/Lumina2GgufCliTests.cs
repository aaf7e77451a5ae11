using Lumina.Checkpoints;
using Lumina.Pipelines;
using Lumina.Tensors;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>
/// <c>lumina generate</c> (a child process) with a GGUF transformer: a tiny random Lumina-Image 2.0 written as Q8_0 by
/// <see cref="Lumina2Checkpoint.SaveGguf"/>, in place of a diffusers folder's transformer (<c>--transformer</c>) or as
/// the model itself with a components folder, kept quantized or dequantized at load.
/// </summary>
public sealed class Lumina2GgufCliTests(TinyLumina2 tiny) : IClassFixture<TinyLumina2>, IDisposable
{
    private readonly TempFolder _temp = new("lumina2-gguf-cli");

    public void Dispose() => _temp.Dispose();

    private string WriteGguf()
    {
        var path = _temp.File("tiny-lumina2.Q8_0.gguf");
        using var model = Lumina2Checkpoint.LoadModel(tiny.ComfyFile, TinyLumina2.DiT);
        Lumina2Checkpoint.SaveGguf(model, path, GgmlType.Q8_0);
        using var file = GgufFile.Open(path);
        Assert.Contains(file.TensorInfos, t => t.Type == GgmlType.Q8_0); // feed_forward.w2 (rows of 192) is block-quantized
        return path;
    }

    private static string[] Common(string output) => ["generate", "a lighthouse at dusk", "-o", output, "--width", "32", "--height", "32", "--steps", "2", "--seed", "3"];

    private static Rgb24[] Pixels(string png)
    {
        using var image = Image.Load<Rgb24>(png);
        Assert.Equal((32, 32), (image.Width, image.Height));
        var pixels = new Rgb24[32 * 32];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }

    [Fact]
    public async Task AGgufTransformerGeneratesTheSamePngKeptQuantizedDequantizedAndAsTheModelItself()
    {
        var gguf = WriteGguf();
        var kept = _temp.File("kept.png");
        var run = await ProcessRun.LuminaAsync([.. Common(kept), "--model", tiny.Diffusers, "--transformer", gguf]);
        Assert.True(run.ExitCode == 0, run.ToString());

        var dense = _temp.File("dense.png");
        run = await ProcessRun.LuminaAsync([.. Common(dense), "--model", tiny.Diffusers, "--transformer", gguf, "--gguf-weights", "dequantize"]);
        Assert.True(run.ExitCode == 0, run.ToString());

        var single = _temp.File("single.png");
        run = await ProcessRun.LuminaAsync([.. Common(single), "--model", gguf, "--text-encoder", tiny.Components, "--vae", tiny.Components]);
        Assert.True(run.ExitCode == 0, run.ToString());

        // Both modes dequantize the same blocks in float32, and the folder's config agrees with the file's header.
        Assert.Equal(Pixels(dense), Pixels(kept));
        Assert.Equal(Pixels(kept), Pixels(single));
        using (var image = Image.Load<Rgb24>(kept))
            Assert.Equal(("a lighthouse at dusk", 3L), (GenerationMetadata.ReadFrom(image)!.Prompt, GenerationMetadata.ReadFrom(image)!.Seed));

        // The quantized weights are not the original ones: the image differs from the dense safetensors model's.
        var original = _temp.File("original.png");
        run = await ProcessRun.LuminaAsync([.. Common(original), "--model", tiny.Diffusers]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.NotEqual(Pixels(original), Pixels(kept));
    }

    [Fact]
    public async Task ALoraOnAKeptQuantizedTransformerAndAMissingFileAreRefusedByName()
    {
        var gguf = WriteGguf();
        var output = _temp.File("lora.png");
        var run = await ProcessRun.LuminaAsync([.. Common(output), "--model", tiny.Diffusers, "--transformer", gguf,
            "--lora", Path.Combine(Golden.Directory, "lora_comfy.safetensors")]);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--gguf-weights dequantize", run.StdErr);
        Assert.False(File.Exists(output));

        run = await ProcessRun.LuminaAsync([.. Common(output), "--model", tiny.Diffusers, "--transformer", _temp.File("missing.gguf")]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--transformer", run.StdErr);
        run = await ProcessRun.LuminaAsync([.. Common(output), "--model", tiny.Diffusers, "--transformer", gguf, "--gguf-weights", "fast"]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("'fast'", run.StdErr);
    }
}
