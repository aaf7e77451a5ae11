using Lumina.Pipelines;
using Lumina.Tensors;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>
/// <c>lumina train-demo</c> run as a process: a short run of the demo-model recipe writes upstream-layout checkpoints,
/// resumes from them, and exports a diffusers folder that <c>lumina generate</c> loads.
/// </summary>
public sealed class TrainDemoCommandTests : IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-train");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task TrainsResumesAndExportsAModelThatGenerates()
    {
        var output = _temp.File("demo");
        var work = _temp.File("work");
        var run = await ProcessRun.LuminaAsync(["train-demo", "--output", output, "--work", work, "--steps", "2", "--batch", "4", "--checkpoint-every", "1"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(Path.GetFullPath(output), run.StdOut.Trim());
        Assert.Matches(@"2 steps in \d+ s \(step 2\), loss \d+\.\d{4} at the first step, \d+\.\d{4} at the last", run.StdErr);
        foreach (var step in new[] { "0000001", "0000002" })
        {
            using var ema = SafetensorsFile.Open(Path.Combine(work, "results", "checkpoints", step, "consolidated_ema.00-of-01.safetensors"));
            Assert.Contains(ema.Tensors, t => t.Name == "x_embedder.weight");
        }
        Assert.Empty(Directory.GetDirectories(_temp.Path, "*.partial"));
        Assert.Equal("""[null,null]""", System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(output, "model_index.json")))!["vae"]!.ToJsonString());

        // A second run with more steps resumes at step 2 and trains one more.
        var resumed = await ProcessRun.LuminaAsync(["train-demo", "--output", output, "--work", work, "--steps", "3", "--batch", "4", "--force"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Matches(@"1 steps in \d+ s \(step 3\)", resumed.StdErr);
        using (var exported = SafetensorsFile.Open(Path.Combine(output, "transformer", "diffusion_pytorch_model.safetensors")))
            Assert.Equal("3", exported.Metadata["lumina.demo.steps"]);

        // The export loads through the same path as a real model: 32×32 by default, from its sample_size.
        var png = _temp.File("red.png");
        var generate = await ProcessRun.LuminaAsync(["generate", "a red circle on the left on a white background", "--model", output, "-o", png, "--steps", "2", "--seed", "1"]);
        Assert.True(generate.ExitCode == 0, generate.ToString());
        using var image = Image.Load<Rgb24>(png);
        Assert.Equal((32, 32), (image.Width, image.Height));
        Assert.Equal(Path.GetFullPath(output), GenerationMetadata.ReadFrom(image)!.ModelId);
    }

    [Theory]
    [InlineData("--steps|0")]
    [InlineData("--batch|0")]
    [InlineData("--lr|5")]
    [InlineData("--checkpoint-every|-1")]
    public async Task BadSettings_ExitWith1(string args)
    {
        var run = await ProcessRun.LuminaAsync(["train-demo", "--output", _temp.File("never"), .. args.Split('|')]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.False(Directory.Exists(_temp.File("never")));
        Assert.False(Directory.Exists(_temp.File("never.work")));
    }

    [Fact]
    public async Task AnUnwritableWorkFolder_FailsWithOneLineAndExitCode2()
    {
        var blocker = _temp.File("a-file");
        await File.WriteAllTextAsync(blocker, "not a folder");
        var run = await ProcessRun.LuminaAsync("train-demo", "--output", _temp.File("never"), "--work", Path.Combine(blocker, "work"), "--steps", "1");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrorLines));
        Assert.False(Directory.Exists(_temp.File("never")));
    }
}
