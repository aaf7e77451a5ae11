using Lumina.Pipelines;
using Lumina.Solvers;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary><c>lumina generate</c> run as a process on tiny random Lumina-Next models written in both layouts.</summary>
public sealed class GenerateCommandTests(TinyLuminaNextFolders models) : IClassFixture<TinyLuminaNextFolders>, IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-generate");

    public void Dispose() => _temp.Dispose();

    private static string[] Small(params string[] more) =>
        ["--width", "32", "--height", "48", "--steps", "2", "--seed", "7", .. more];

    [Fact]
    public async Task WritesAPngThatRecordsItsSettings_AndTheSameSeedRepeats()
    {
        var first = _temp.File("out/first.png");
        var run = await ProcessRun.LuminaAsync(["generate", "a red circle on the left", "--model", models.Diffusers, "-o", first,
            .. Small("--solver", "euler", "--shift", "2.5", "--guidance", "3")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(Path.GetFullPath(first), run.StdOut.Trim());
        using var image = Image.Load<Rgb24>(first);
        Assert.Equal((32, 48), (image.Width, image.Height));
        var metadata = GenerationMetadata.ReadFrom(image);
        Assert.NotNull(metadata);
        Assert.Equal(("a red circle on the left", 7L, 2, OdeMethod.Euler, 2.5, 3.0), (metadata.Prompt, metadata.Seed, metadata.Steps, metadata.Solver, metadata.TimeShift, metadata.GuidanceScale));

        var second = _temp.File("second.png");
        var again = await ProcessRun.LuminaAsync(["generate", "a red circle on the left", "--model", models.Diffusers, "-o", second,
            .. Small("--solver", "euler", "--shift", "2.5", "--guidance", "3")]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(first), await File.ReadAllBytesAsync(second));
    }

    [Fact]
    public async Task CountWritesNumberedFilesWithConsecutiveSeeds()
    {
        var output = _temp.File("batch.png");
        var run = await ProcessRun.LuminaAsync(["generate", "a blue square", "--model", models.Diffusers, "-o", output, "--count", "2", .. Small()]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var files = new[] { _temp.File("batch-1.png"), _temp.File("batch-2.png") };
        Assert.Equal(files.Select(Path.GetFullPath), run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        using var a = Image.Load<Rgb24>(files[0]);
        using var b = Image.Load<Rgb24>(files[1]);
        Assert.Equal([7L, 8L], new[] { GenerationMetadata.ReadFrom(a)!.Seed, GenerationMetadata.ReadFrom(b)!.Seed });
    }

    [Fact]
    public async Task AHubRepoId_IsDownloadedIntoTheCacheAndGenerates()
    {
        await using var hub = await FakeHub.StartAsync();
        hub.AddFolder("lumina-test/tiny-next", models.Diffusers);
        var environment = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = hub.Endpoint.ToString().TrimEnd('/'),
            ["HF_HUB_CACHE"] = _temp.File("hub"),
            ["HF_HOME"] = _temp.File("hf-home"),
        };
        var output = _temp.File("from-hub.png");

        var run = await ProcessRun.LuminaAsync(environment, ["generate", "a red circle", "--model", "lumina-test/tiny-next", "-o", output, .. Small()]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var image = Image.Load<Rgb24>(output);
        Assert.Equal("lumina-test/tiny-next", GenerationMetadata.ReadFrom(image)!.ModelId);
        Assert.True(Directory.Exists(Path.Combine(_temp.File("hub"), "models--lumina-test--tiny-next", "snapshots")));
    }

    [Theory]
    [InlineData("--width|1000")]
    [InlineData("--steps|0")]
    [InlineData("--solver|leapfrog")]
    [InlineData("--guidance|-1")]
    [InlineData("--count|0")]
    public async Task BadSettings_ExitWith1BeforeLoadingAnything(string args)
    {
        var output = _temp.File("never.png");
        var run = await ProcessRun.LuminaAsync(["generate", "x", "--model", _temp.File("no-model-needed"), "-o", output, .. args.Split('|')]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.NotEmpty(run.ErrorLines);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task MissingModelFolder_FailsWithExitCode2()
    {
        var run = await ProcessRun.LuminaAsync(["generate", "x", "--model", "/no/such/folder", "-o", _temp.File("x.png"), .. Small()]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task CorruptTransformerWeights_FailWithOneLine()
    {
        var copy = _temp.File("corrupt-model");
        CopyTree(models.Diffusers, copy);
        var weights = Path.Combine(copy, "transformer", "diffusion_pytorch_model.safetensors");
        var bytes = await File.ReadAllBytesAsync(weights);
        await File.WriteAllBytesAsync(weights, bytes[..(bytes.Length - 100)]);

        var run = await ProcessRun.LuminaAsync(["generate", "x", "--model", copy, "-o", _temp.File("x.png"), .. Small()]);

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains("diffusion_pytorch_model.safetensors", line);
        Assert.DoesNotMatch(@"\n\s+at ", run.StdErr);
        Assert.False(File.Exists(_temp.File("x.png")));
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
