using System.Diagnostics;

namespace Lumina.Hub.Tests;

public sealed class CrossProcessLockTests
{
    private const string Repo = "org/shared";
    private const string Weights = "model.safetensors";

    [Fact]
    public async Task TwoProcessesDownloadingTheSameFileMakeOneGetOfTheBody()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        var file = new FakeFile(Weights, HubTestEnvironment.Bytes(4 * 1024 * 1024, 30), true);
        FakeRepo repo = env.Hub.AddRepo(Repo, file);
        FileFaults faults = env.Hub.FaultsFor(Repo, Weights);

        // The body starts only once both processes have asked for the metadata, and then trickles for about a
        // second, so the second process certainly arrives while the first one holds the lock.
        faults.WaitForHeads = 2;
        faults.ChunkDelayMs = 15;

        Task<(int Code, string Out, string Err)> first = RunHelperAsync(env);
        Task<(int Code, string Out, string Err)> second = RunHelperAsync(env);
        var results = await Task.WhenAll(first, second);

        string expected = Path.Combine(env.RepoFolder(Repo), "snapshots", repo.Commit, Weights);
        foreach (var (code, output, error) in results)
        {
            Assert.True(code == 0, $"helper failed ({code}): {error}");
            Assert.Equal(expected, output.Trim());
        }

        Assert.Equal(2, env.Hub.Heads(Repo, Weights));
        Assert.Equal(1, env.Hub.BodyGets(Repo, Weights));
        Assert.Equal(file.Content.Length, env.Hub.BytesServed(Repo, Weights));
        Assert.Equal(file.Sha256, HubTestEnvironment.Sha256(expected));
        Assert.True(File.Exists(Path.Combine(env.CacheDirectory, ".locks", "models--org--shared", file.Etag + ".lock")));
    }

    [Fact]
    public async Task ConcurrentDownloadsInOneProcessAlsoShareOneGet()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        var file = new FakeFile(Weights, HubTestEnvironment.Bytes(2 * 1024 * 1024, 31), true);
        env.Hub.AddRepo(Repo, file);
        FileFaults faults = env.Hub.FaultsFor(Repo, Weights);
        faults.WaitForHeads = 3;
        faults.ChunkDelayMs = 5;

        string[] paths = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => env.CreateClient().DownloadFileAsync(Repo, Weights)));

        Assert.Single(paths.Distinct());
        Assert.Equal(1, env.Hub.BodyGets(Repo, Weights));
        Assert.Equal(file.Sha256, HubTestEnvironment.Sha256(paths[0]));
    }

    [Fact]
    public async Task AKilledProcessLeavesAResumableDownloadAndReleasesTheLock()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        var file = new FakeFile(Weights, HubTestEnvironment.Bytes(16 * 1024 * 1024, 32), true);
        env.Hub.AddRepo(Repo, file);
        env.Hub.FaultsFor(Repo, Weights).ChunkDelayMs = 10;
        string incomplete = Path.Combine(env.RepoFolder(Repo), "blobs", file.Etag + ".incomplete");

        using (Process victim = Process.Start(HelperStart(env))!)
        {
            DateTime until = DateTime.UtcNow.AddSeconds(30);
            while (!(File.Exists(incomplete) && new FileInfo(incomplete).Length >= 2 * 1024 * 1024) && DateTime.UtcNow < until && !victim.HasExited)
            {
                await Task.Delay(20);
            }

            Assert.False(victim.HasExited, "the helper should still be downloading");
            victim.Kill(entireProcessTree: true);
            await victim.WaitForExitAsync();
        }

        long kept = new FileInfo(incomplete).Length;
        Assert.InRange(kept, 2 * 1024 * 1024, file.Content.Length - 1);

        // Wait until the server has recorded the killed process's GET (recorded when its response started).
        for (int i = 0; i < 500 && !env.Hub.Requests.Any(r => r.Method == "GET"); i++)
        {
            await Task.Delay(20);
        }

        // HF_HUB_OFFLINE=1 in the environment: no request, and a clear failure since nothing is complete.
        int before = env.Hub.Requests.Count;
        var (offlineCode, _, offlineError) = await RunHelperAsync(env, ("HF_HUB_OFFLINE", "1"));
        Assert.Equal(1, offlineCode);
        Assert.Contains("Offline mode is on", offlineError, StringComparison.Ordinal);
        Assert.Equal(before, env.Hub.Requests.Count);

        env.Hub.FaultsFor(Repo, Weights).ChunkDelayMs = 0;
        long servedToTheVictim = env.Hub.BytesServed(Repo, Weights);
        var (code, output, error) = await RunHelperAsync(env);
        Assert.True(code == 0, error);
        Assert.Equal(file.Sha256, HubTestEnvironment.Sha256(output.Trim()));
        Assert.Contains(env.Hub.Requests, r => r.Method == "GET" && r.Range == $"bytes={kept}-");
        Assert.Equal(2, env.Hub.BodyGets(Repo, Weights));

        // Exactly the missing tail was sent again. (What was in flight when the process died is lost with it, so the
        // total is not bounded the way the dropped-connection test bounds it.)
        Assert.Equal(file.Content.Length - kept, env.Hub.BytesServed(Repo, Weights) - servedToTheVictim);
    }

    private static ProcessStartInfo HelperStart(HubTestEnvironment env, params (string Name, string Value)[] extraEnvironment)
    {
        // The dotnet CLI tells child processes where its host is; fall back to the one on PATH.
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(HelperProgram).Assembly.Location);
        start.ArgumentList.Add("download");
        start.ArgumentList.Add(Repo);
        start.ArgumentList.Add(Weights);

        // The helper is configured only through huggingface_hub's environment variables.
        start.Environment["HF_ENDPOINT"] = env.Hub.Endpoint.ToString();
        start.Environment["HF_HUB_CACHE"] = env.CacheDirectory;
        start.Environment["HF_HOME"] = env.HomeDirectory;
        start.Environment["HF_HUB_OFFLINE"] = "0";
        start.Environment.Remove("HF_TOKEN");
        start.Environment.Remove("HUGGING_FACE_HUB_TOKEN");
        start.Environment.Remove("HUGGINGFACE_HUB_CACHE");
        start.Environment.Remove("TRANSFORMERS_OFFLINE");
        foreach (var (name, value) in extraEnvironment)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    private static async Task<(int Code, string Out, string Err)> RunHelperAsync(HubTestEnvironment env, params (string Name, string Value)[] extraEnvironment)
    {
        using Process process = Process.Start(HelperStart(env, extraEnvironment))!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }
}
