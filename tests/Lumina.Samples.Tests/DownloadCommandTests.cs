using System.Text;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary><c>lumina download</c> run as a process against the fake Hub served on 127.0.0.1.</summary>
public sealed class DownloadCommandTests : IAsyncLifetime
{
    private readonly TempFolder _temp = new("lumina-cli-download");
    private FakeHub _hub = null!;

    public async Task InitializeAsync() => _hub = await FakeHub.StartAsync();

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _temp.Dispose();
    }

    private Dictionary<string, string?> Environment => new()
    {
        ["HF_ENDPOINT"] = _hub.Endpoint.ToString().TrimEnd('/'),
        ["HF_HUB_CACHE"] = _temp.File("hub"),
        ["HF_HOME"] = _temp.File("hf-home"),
    };

    private static Dictionary<string, byte[]> TinyDiffusersRepo() => new()
    {
        ["model_index.json"] = Encoding.UTF8.GetBytes("""{"_class_name": "LuminaText2ImgPipeline", "transformer": ["diffusers", "LuminaNextDiT2DModel"], "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"]}"""),
        ["transformer/diffusion_pytorch_model.safetensors"] = File.ReadAllBytes(Golden.WeightsPath("nextdit_diffusers")),
        ["scheduler/scheduler_config.json"] = Encoding.UTF8.GetBytes("""{"_class_name": "FlowMatchEulerDiscreteScheduler"}"""),
        ["README.md"] = Encoding.UTF8.GetBytes("# tiny\n"),
    };

    [Fact]
    public async Task DownloadsTheRepoIntoTheHubCacheLayout_AndInfoReadsIt()
    {
        var files = TinyDiffusersRepo();
        var commit = _hub.AddRepo("lumina-test/tiny-next", files).Commit;

        var run = await ProcessRun.LuminaAsync(Environment, "download", "lumina-test/tiny-next");

        Assert.True(run.ExitCode == 0, run.ToString());
        var snapshot = run.StdOut.Trim();
        Assert.Equal(Path.Combine(_temp.File("hub"), "models--lumina-test--tiny-next", "snapshots", commit), snapshot);
        foreach (var (path, content) in files)
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(snapshot, path)));
        Assert.Equal(commit, await File.ReadAllTextAsync(Path.Combine(_temp.File("hub"), "models--lumina-test--tiny-next", "refs", "main")));
        Assert.Contains("4 files", run.StdErr);

        var info = await ProcessRun.LuminaAsync("info", snapshot);
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains("layout:     diffusers (model_index.json)", info.StdOut);
        Assert.Contains("family:     Next-DiT (Lumina-Next)", info.StdOut);
    }

    [Fact]
    public async Task IncludePatterns_FetchOnlyMatchingFiles_AndASecondRunUsesTheCache()
    {
        _hub.AddRepo("lumina-test/patterns", TinyDiffusersRepo());

        var run = await ProcessRun.LuminaAsync(Environment, "download", "lumina-test/patterns", "--include", "*.json", "scheduler/*");

        Assert.True(run.ExitCode == 0, run.ToString());
        var snapshot = run.StdOut.Trim();
        Assert.True(File.Exists(Path.Combine(snapshot, "model_index.json")));
        Assert.True(File.Exists(Path.Combine(snapshot, "scheduler", "scheduler_config.json")));
        Assert.False(File.Exists(Path.Combine(snapshot, "transformer", "diffusion_pytorch_model.safetensors")));
        Assert.False(File.Exists(Path.Combine(snapshot, "README.md")));
        var served = _hub.TotalBodyGets;
        Assert.Equal(2, served);

        var again = await ProcessRun.LuminaAsync(Environment, "download", "lumina-test/patterns", "--include", "*.json", "scheduler/*");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(snapshot, again.StdOut.Trim());
        Assert.Equal(served, _hub.TotalBodyGets);
    }

    [Fact]
    public async Task MissingRepo_FailsWithOneLineAndExitCode2()
    {
        var run = await ProcessRun.LuminaAsync(Environment, "download", "lumina-test/does-not-exist");

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains("lumina-test/does-not-exist", line);
        Assert.DoesNotMatch(@"\n\s+at ", run.StdErr);
        Assert.Equal("", run.StdOut);
    }

    [Fact]
    public async Task UnreachableHub_FailsWithExitCode2()
    {
        // A port nothing listens on: bind one, then release it.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var env = Environment;
        env["HF_ENDPOINT"] = $"http://127.0.0.1:{port}";

        var run = await ProcessRun.DotnetAsync(SampleApps.LuminaCli, ["download", "lumina-test/x"], env, TimeSpan.FromSeconds(90));

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrorLines));
    }

    [Theory]
    [InlineData("download")]
    [InlineData("download|org/name|--endpoint|not a url")]
    [InlineData("download|not//a/valid/repo id")]
    public async Task BadArguments_ExitWith1(string args)
    {
        var run = await ProcessRun.LuminaAsync(Environment, args.Split('|'));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.NotEmpty(run.ErrorLines);
    }
}
