using System.Globalization;
using Lumina.Tensors;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary><c>lumina info</c> run as a process on real checkpoint files and folders.</summary>
public sealed class InfoCommandTests : IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-info");

    public void Dispose() => _temp.Dispose();

    private static string Count(string weights)
    {
        using var file = SafetensorsFile.Open(weights);
        return file.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)).ToString("N0", CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ReadmeCommand_DescribesTheGoldenNextDiT()
    {
        var weights = Golden.WeightsPath("nextdit");
        var run = await ProcessRun.LuminaAsync("info", weights);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("family:     Next-DiT (Lumina-Next)", run.StdOut);
        Assert.Contains("key names:  original", run.StdOut);
        Assert.Contains($"parameters: {Count(weights)}", run.StdOut);
        Assert.Contains("dtypes:     F32 ×61", run.StdOut);
        Assert.Contains("… 41 more (use --all)", run.StdOut);
        Assert.Equal("", run.StdErr);
    }

    [Theory]
    [InlineData("flagdit", "Flag-DiT (Lumina-T2I)", "original")]
    [InlineData("music_dit", "music DiT / FlagDiTv2 (Lumina-T2Music)", "original")]
    [InlineData("nextdit_diffusers", "Next-DiT (Lumina-Next)", "diffusers")]
    [InlineData("vae", "AutoencoderKL (2-D image VAE)", "diffusers")]
    [InlineData("music_vae", "AutoencoderKL 1-D (mel VAE)", "original")]
    [InlineData("vocoder", "BigVGAN vocoder", "original")]
    [InlineData("t5", "T5 encoder", "transformers")]
    [InlineData("gemma2", "Gemma 2 text encoder", "transformers")]
    public async Task RecognisesEveryGoldenFamily(string part, string family, string layout)
    {
        var run = await ProcessRun.LuminaAsync("info", Golden.WeightsPath(part), "--all");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"family:     {family}", run.StdOut);
        Assert.Contains($"key names:  {layout}", run.StdOut);
        Assert.Contains($"parameters: {Count(Golden.WeightsPath(part))}", run.StdOut);
        Assert.DoesNotContain("more (use --all)", run.StdOut);
    }

    [Fact]
    public async Task DiffusersFolder_ListsEachComponent()
    {
        var folder = ModelFolders.WriteDiffusers(_temp.File("diffusers"));
        var run = await ProcessRun.LuminaAsync("info", folder);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("layout:     diffusers (model_index.json)", run.StdOut);
        Assert.Contains("pipeline:   LuminaText2ImgPipeline", run.StdOut);
        Assert.Contains("[transformer]", run.StdOut);
        Assert.Contains("[vae]", run.StdOut);
        Assert.Contains("[scheduler] diffusers.FlowMatchEulerDiscreteScheduler: scheduler_config.json", run.StdOut);
        Assert.Contains($"parameters: {Count(Golden.WeightsPath("nextdit_diffusers"))}", run.StdOut);
        Assert.Contains($"parameters: {Count(Golden.WeightsPath("vae"))}", run.StdOut);
    }

    [Fact]
    public async Task OriginalFolder_IsRecognised()
    {
        var folder = ModelFolders.WriteOriginal(_temp.File("original"));
        var run = await ProcessRun.LuminaAsync("info", folder);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("layout:     original (Lumina-T2X consolidated checkpoints)", run.StdOut);
        Assert.Contains("[consolidated.00-of-01.safetensors]", run.StdOut);
        Assert.Contains("family:     Next-DiT (Lumina-Next)", run.StdOut);
    }

    [Fact]
    public async Task MissingPath_FailsWithOneLineAndExitCode2()
    {
        var missing = _temp.File("nope.safetensors");
        var run = await ProcessRun.LuminaAsync("info", missing);

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(missing, line);
        Assert.Equal("", run.StdOut);
    }

    [Fact]
    public async Task TruncatedCheckpoint_FailsWithOneLine_AndVerboseAddsTheStackTrace()
    {
        var bytes = await File.ReadAllBytesAsync(Golden.WeightsPath("nextdit"));
        var corrupt = _temp.File("truncated.safetensors");
        await File.WriteAllBytesAsync(corrupt, bytes[..(bytes.Length / 2)]);

        var run = await ProcessRun.LuminaAsync("info", corrupt);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains("truncated.safetensors", line);
        Assert.DoesNotMatch(@"\n\s+at ", run.StdErr);

        var verbose = await ProcessRun.LuminaAsync("info", corrupt, "--verbose");
        Assert.Equal(2, verbose.ExitCode);
        Assert.Contains("SafetensorsException", verbose.StdErr);
        Assert.Matches(@"\n\s+at ", verbose.StdErr);
    }

    [Fact]
    public async Task GarbageHeader_FailsWithExitCode2()
    {
        var corrupt = _temp.File("garbage.safetensors");
        await File.WriteAllBytesAsync(corrupt, [.. BitConverter.GetBytes(40L), .. "{\"a\": {\"dtype\": \"F32\", \"shape\": [9"u8.ToArray(), .. new byte[40]]);

        var run = await ProcessRun.LuminaAsync("info", corrupt);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrorLines));
    }

    [Theory]
    [InlineData("info")]
    [InlineData("info|a|b")]
    [InlineData("info|x.safetensors|--no-such-option")]
    [InlineData("no-such-command")]
    public async Task BadArguments_ExitWith1AndSayWhy(string args)
    {
        var run = await ProcessRun.LuminaAsync(args.Split('|'));

        Assert.Equal(1, run.ExitCode);
        Assert.NotEmpty(run.ErrorLines);
    }

    [Fact]
    public async Task Help_DescribesEveryCommand()
    {
        var run = await ProcessRun.LuminaAsync("--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "info <path>", "download <repo>", "generate <prompt>", "music <prompt>", "train-demo" })
            Assert.Contains(command, run.StdOut);
        Assert.Contains("Exit codes: 0 success, 1 usage error, 2 failure", run.StdOut);
    }
}
