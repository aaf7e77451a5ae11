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

    private static async Task<(int Code, string Out, string Err)> RunHelperAsync(HubTestEnvironment env)
    {
        var start = new ProcessStartInfo("dotnet")
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

        using Process process = Process.Start(start)!;
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
