using Lumina.Modalities.Tests.Pipelines;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary><c>lumina train-demo</c> run as a process: fine-tunes a tiny random Lumina-Next model on the shapes dataset.</summary>
public sealed class TrainDemoCommandTests(TinyLuminaNextFolders models) : IClassFixture<TinyLuminaNextFolders>, IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-train");

    public void Dispose() => _temp.Dispose();

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
