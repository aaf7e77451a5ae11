using System.Buffers.Binary;
using System.Text;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary><c>lumina music</c> run as a process on a tiny random Lumina-T2Music folder (800 Hz, 16 samples per latent frame).</summary>
public sealed class MusicCommandTests(TinyMusicFolder model) : IClassFixture<TinyMusicFolder>, IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-music");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task WritesAWavOfTheRequestedDuration_AndTheSameSeedRepeats()
    {
        var first = _temp.File("clip.wav");
        var run = await ProcessRun.LuminaAsync("music", "calm piano over soft rain", "--model", model.Path, "--duration", "1", "--steps", "3", "--seed", "4", "-o", first);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(Path.GetFullPath(first), run.StdOut.Trim());
        var wav = await File.ReadAllBytesAsync(first);
        Assert.Equal("RIFF", Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal("WAVE", Encoding.ASCII.GetString(wav, 8, 4));
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(22)));        // mono
        Assert.Equal(800, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(24)));      // sample rate
        Assert.Equal(16, BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(34)));       // 16-bit PCM
        Assert.Equal(800 * 2, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(40)));  // 1 s of samples in the data chunk
        Assert.Contains("seed 4", run.StdErr);

        var second = _temp.File("again.wav");
        var again = await ProcessRun.LuminaAsync("music", "calm piano over soft rain", "--model", model.Path, "--duration", "1", "--steps", "3", "--seed", "4", "-o", second);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(wav, await File.ReadAllBytesAsync(second));
    }

    [Theory]
    [InlineData("--duration|0")]
    [InlineData("--duration|-3")]
    [InlineData("--steps|0")]
    [InlineData("--duration|100000")]
    public async Task BadSettings_ExitWith1(string args)
    {
        var output = _temp.File("never.wav");
        var run = await ProcessRun.LuminaAsync(["music", "x", "--model", model.Path, "-o", output, .. args.Split('|')]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task MissingModel_FailsWithOneLineAndExitCode2()
    {
        var run = await ProcessRun.LuminaAsync("music", "x", "--model", _temp.File("no-model"), "-o", _temp.File("x.wav"));

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrorLines));
    }
}
