using Lumina.Pipelines;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>The QuickStart sample (the README's code) run as a process: with the bundled demo model, and with a given folder.</summary>
public sealed class QuickStartTests(TinyLuminaNextFolders models) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task WithoutArguments_DrawsTheDefaultPromptWithTheDemoModel()
    {
        using var work = new TempFolder("lumina-quickstart");

        var run = await ProcessRun.DotnetAsync(SampleApps.QuickStart, [], workingDirectory: work.Path, timeout: TimeSpan.FromSeconds(120));

        Assert.True(run.ExitCode == 0, run.ToString());
        var png = work.File("lumina.png");
        Assert.StartsWith(png, run.StdOut.Trim());
        using var image = Image.Load<Rgb24>(png);
        Assert.Equal((32, 32), (image.Width, image.Height));
        var metadata = GenerationMetadata.ReadFrom(image)!;
        Assert.Equal(("a red circle on the left on a white background", 42L, 30), (metadata.Prompt, metadata.Seed, metadata.Steps));
        Assert.EndsWith(Path.Combine("models", "lumina-demo"), metadata.ModelId);
    }

    [Fact]
    public async Task APromptAndAModelFolderFromTheCommandLine()
    {
        using var work = new TempFolder("lumina-quickstart");

        var run = await ProcessRun.DotnetAsync(SampleApps.QuickStart, ["a lighthouse at dusk", models.Diffusers], workingDirectory: work.Path,
            timeout: TimeSpan.FromSeconds(120));

        Assert.True(run.ExitCode == 0, run.ToString());
        using var image = Image.Load<Rgb24>(work.File("lumina.png"));
        var metadata = GenerationMetadata.ReadFrom(image)!;
        Assert.Equal(("a lighthouse at dusk", 42L, Path.GetFullPath(models.Diffusers)), (metadata.Prompt, metadata.Seed, metadata.ModelId));
    }

    [Fact]
    public void ProgramStaysUnder20Lines()
    {
        var program = RepositoryFiles.Path("samples/Lumina.QuickStart/Program.cs");
        Assert.True(File.ReadAllLines(program).Length < 20, $"{program} should stay under 20 lines (it is the README's example).");
    }
}
