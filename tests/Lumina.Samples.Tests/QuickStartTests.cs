using Lumina.Modalities.Tests.Pipelines;
using Lumina.Pipelines;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>The QuickStart sample (the README's code) run as a process on a tiny random Lumina-Next folder.</summary>
public sealed class QuickStartTests(TinyLuminaNextFolders models) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task WritesLuminaPngInTheWorkingFolder()
    {
        using var work = new TempFolder("lumina-quickstart");

        var run = await ProcessRun.DotnetAsync(SampleApps.QuickStart, [models.Diffusers, "a lighthouse at dusk", "32"], workingDirectory: work.Path,
            timeout: TimeSpan.FromSeconds(120));

        Assert.True(run.ExitCode == 0, run.ToString());
        var png = work.File("lumina.png");
        Assert.StartsWith(png, run.StdOut.Trim());
        using var image = Image.Load<Rgb24>(png);
        Assert.Equal((32, 32), (image.Width, image.Height));
        var metadata = GenerationMetadata.ReadFrom(image)!;
        Assert.Equal(("a lighthouse at dusk", 42L, 30), (metadata.Prompt, metadata.Seed, metadata.Steps));
    }

    [Fact]
    public void ProgramStaysUnder20Lines()
    {
        var program = FindRepoFile("samples/Lumina.QuickStart/Program.cs");
        Assert.True(File.ReadAllLines(program).Length < 20, $"{program} should stay under 20 lines (it is the README's example).");
    }

    private static string FindRepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }

        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}.");
    }
}
