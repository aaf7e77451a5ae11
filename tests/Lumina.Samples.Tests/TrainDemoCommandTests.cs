using Lumina.Modalities.Tests.Pipelines;
using Lumina.Tensors;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary><c>lumina train-demo</c> run as a process: fine-tunes a tiny random Lumina-Next model on the shapes dataset.</summary>
public sealed class TrainDemoCommandTests(TinyLuminaNextFolders models) : IClassFixture<TinyLuminaNextFolders>, IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-train");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task WritesUpstreamLayoutCheckpointsWithTrainedWeights()
    {
        var output = _temp.File("results");
        var run = await ProcessRun.DotnetAsync(SampleApps.LuminaCli,
            ["train-demo", "--model", models.Diffusers, "--output", output, "--steps", "3", "--batch", "2", "--size", "32", "--lr", "1e-3"],
            timeout: TimeSpan.FromSeconds(120));

        Assert.True(run.ExitCode == 0, run.ToString());
        var folder = Path.Combine(output, "checkpoints", "0000003");
        Assert.Equal(Path.GetFullPath(folder), run.StdOut.Trim());
        Assert.Matches(@"3 steps, loss \d+\.\d{4} at step 1, \d+\.\d{4} at step 3", run.StdErr);

        // Same file names and keys as upstream's consolidated checkpoint of the same model, and the weights moved.
        using var trained = SafetensorsFile.Open(Path.Combine(folder, "consolidated.00-of-01.safetensors"));
        using var ema = SafetensorsFile.Open(Path.Combine(folder, "consolidated_ema.00-of-01.safetensors"));
        using var before = SafetensorsFile.Open(Path.Combine(models.Original, "consolidated.00-of-01.safetensors"));
        var keys = before.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(keys, trained.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal(keys, ema.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.False(before.ReadBytes("x_embedder.weight").AsSpan().SequenceEqual(trained.ReadBytes("x_embedder.weight")), "training should change the weights");

        var info = await ProcessRun.LuminaAsync("info", folder);
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains("layout:     original (Lumina-T2X consolidated checkpoints)", info.StdOut);
        Assert.Contains("family:     Next-DiT (Lumina-Next)", info.StdOut);
    }

    [Theory]
    [InlineData("--size|20")]
    [InlineData("--steps|0")]
    [InlineData("--lr|5")]
    public async Task BadSettings_ExitWith1(string args)
    {
        var run = await ProcessRun.LuminaAsync(["train-demo", "--model", models.Diffusers, "--output", _temp.File("never"), .. args.Split('|')]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.False(Directory.Exists(_temp.File("never")));
    }

    [Fact]
    public async Task MissingModel_FailsWithOneLineAndExitCode2()
    {
        var run = await ProcessRun.LuminaAsync("train-demo", "--model", _temp.File("no-model"), "--output", _temp.File("never"), "--steps", "1");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrorLines));
    }
}
