using Lumina.Pipelines;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>
/// The demo model's closed caption language (issue 18): sentence case is normalised, unknown words and sizes other than
/// 32×32 are warned about, and <c>lumina info</c> says what it knows. The real CLI as a child process on the bundled model.
/// </summary>
public sealed class DemoModelLanguageTests : IDisposable
{
    private readonly TempFolder _temp = new("lumina-demo-language");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task SentenceCase_MakesTheSameImageAsLowercase_WithoutWarnings()
    {
        var lower = _temp.File("lower.png");
        var sentence = _temp.File("sentence.png");
        var a = await ProcessRun.LuminaAsync("generate", "a red circle on the left on a white background", "--steps", "4", "--seed", "5", "-o", lower);
        var b = await ProcessRun.LuminaAsync("generate", "A Red Circle on the LEFT on a White background", "--steps", "4", "--seed", "5", "-o", sentence);

        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, $"{a}\n{b}");
        Assert.DoesNotContain("warning:", b.StdErr);
        using var x = Image.Load<Rgb24>(lower);
        using var y = Image.Load<Rgb24>(sentence);
        Assert.True(Pixels(x).SequenceEqual(Pixels(y)), "the sentence-case prompt should draw exactly what the lowercase one does");
        Assert.Equal("a red circle on the left on a white background", GenerationMetadata.ReadFrom(y)!.Prompt);
    }

    [Fact]
    public async Task UnknownWords_AndAnotherSize_AreWarnedAboutOnStderr()
    {
        var output = _temp.File("warned.png");
        var run = await ProcessRun.LuminaAsync("generate", "a magenta circle über the lighthouse", "--steps", "2", "--seed", "1", "-W", "64", "-H", "64", "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        var warnings = run.ErrorLines.Where(l => l.StartsWith("warning: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("'magenta', 'über', 'lighthouse'", warnings[0]);
        Assert.Contains("32×32", warnings[1]);
        Assert.Equal(Path.GetFullPath(output), run.StdOut.Trim()); // stdout still holds only the result
    }

    [Fact]
    public async Task Info_SaysWhatTheDemoModelKnows()
    {
        var run = await ProcessRun.LuminaAsync("info", RepositoryFiles.DemoModel);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("captions:   one shape per image", run.StdOut);
        Assert.Contains("size:       32x32 only; prompts are lowercased", run.StdOut);
        foreach (var word in new[] { "circle", "square", "triangle", "purple", "gray", "center" })
            Assert.Contains($" {word}", run.StdOut.Split('\n').Single(l => l.TrimStart().StartsWith("words:", StringComparison.Ordinal)));
    }

    [Fact]
    public void TheModelsReadme_DescribesItsLanguage()
    {
        var readme = File.ReadAllText(RepositoryFiles.Path("models/lumina-demo/README.md"));
        foreach (var fact in new[] { "circle, square, triangle", "red, orange, yellow, green, blue, purple", "white, black, gray", "32×32 only" })
            Assert.Contains(fact, readme);
    }

    private static byte[] Pixels(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }
}
