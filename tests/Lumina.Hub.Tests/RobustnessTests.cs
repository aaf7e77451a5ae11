using Xunit.Abstractions;

namespace Lumina.Hub.Tests;

public sealed class RobustnessTests(ITestOutputHelper output)
{
    private const string Repo = "org/robust";
    private const string Weights = "model.safetensors";

    [Fact]
    public async Task ThreeDroppedConnectionsStillEndByteIdenticalWithoutRedownloadingResumedBytes()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeFile file = new(Weights, HubTestEnvironment.Bytes(32 * 1024 * 1024, 7), true);
        env.Hub.AddRepo(Repo, file);
        FileFaults faults = env.Hub.FaultsFor(Repo, Weights);
        faults.DropAfter.Enqueue(5_000_000);
        faults.DropAfter.Enqueue(9_000_000);
        faults.DropAfter.Enqueue(7_000_000);
        HubClient client = env.CreateClient();

        string local = await client.DownloadFileAsync(Repo, Weights);

        Assert.Equal(file.Sha256, HubTestEnvironment.Sha256(local));
        Assert.Empty(faults.DropAfter);
        Assert.Equal(4, env.Hub.BodyGets(Repo, Weights));
        long served = env.Hub.BytesServed(Repo, Weights);
        output.WriteLine($"served {served} bytes for a {file.Content.Length}-byte file with 3 drops ({(double)served / file.Content.Length:F4}x)");
        Assert.True(served <= 1.05 * file.Content.Length, $"served {served} bytes for a {file.Content.Length}-byte file");
        var ranges = env.Hub.Requests.Where(r => r.Method == "GET" && r.Authority.StartsWith("127.0.0.2", StringComparison.Ordinal)).Select(r => r.Range).ToList();
        Assert.Null(ranges[0]);
        Assert.All(ranges.Skip(1), r => Assert.Matches(@"^bytes=[1-9]\d*-$", r));
        Assert.False(File.Exists(Path.Combine(env.RepoFolder(Repo), "blobs", file.Etag + ".incomplete")));
    }

    [Fact]
    public async Task Http500And503And429AreRetriedThenSucceedAndRetryAfterIsHonoured()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeFile file = new(Weights, HubTestEnvironment.Bytes(200_000, 8), true);
        env.Hub.AddRepo(Repo, file);
        FileFaults faults = env.Hub.FaultsFor(Repo, Weights);
        faults.Head.Enqueue((500, null));
        faults.Head.Enqueue((503, null));
        faults.Get.Enqueue((503, null));
        faults.Get.Enqueue((429, 1));
        HubClient client = env.CreateClient();

        string local = await client.DownloadFileAsync(Repo, Weights);

        Assert.Equal(file.Sha256, HubTestEnvironment.Sha256(local));
        Assert.Equal(3, env.Hub.Heads(Repo, Weights));
        var gets = env.Hub.Requests.Where(r => r.Method == "GET").ToList();
        Assert.Equal([503, 429, 200], gets.Select(r => r.Status));
        TimeSpan waited = gets[2].Time - gets[1].Time;
        Assert.True(waited >= TimeSpan.FromMilliseconds(900), $"Retry-After: 1 was honoured (waited {waited.TotalMilliseconds} ms; the backoff alone is 10-40 ms)");
        Assert.Contains(env.Logs, l => l.Contains("HTTP 429", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APermanent500FailsClearlyAfterTheBoundedRetries()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        env.Hub.AddRepo(Repo, new FakeFile(Weights, HubTestEnvironment.Bytes(1000, 9), true));
        env.Hub.FaultsFor(Repo, Weights).PermanentHeadStatus = 500;
        HubClient client = env.CreateClient(o => o.MaxRetries = 3);

        HubHttpException e = await Assert.ThrowsAsync<HubHttpException>(() => client.DownloadFileAsync(Repo, Weights));

        Assert.Equal(500, e.StatusCode);
        Assert.Equal(4, e.Attempts);
        Assert.Equal(4, env.Hub.Heads(Repo, Weights));
        Assert.Contains("failed after 4 attempt(s)", e.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 500", e.Message, StringComparison.Ordinal);
        Assert.Contains(Weights, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.RepoFolder(Repo), "snapshots")));
    }

    [Fact]
    public async Task ARetryAfterLongerThanTheLimitFailsAtOnceSayingHowLongToWait()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        env.Hub.AddRepo(Repo, new FakeFile(Weights, HubTestEnvironment.Bytes(1000, 9), true));
        env.Hub.FaultsFor(Repo, Weights).Head.Enqueue((429, 3600));
        HubClient client = env.CreateClient(o => o.MaxRetryAfter = TimeSpan.FromSeconds(10));

        HubHttpException e = await Assert.ThrowsAsync<HubHttpException>(() => client.DownloadFileAsync(Repo, Weights));

        Assert.Equal(429, e.StatusCode);
        Assert.Contains("3600 s", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, env.Hub.Heads(Repo, Weights));
    }

    [Fact]
    public async Task AWrongSha256IsRejectedLeavingNoBlobAndNoSnapshotEntry()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeFile file = new(Weights, HubTestEnvironment.Bytes(3_000_000, 10), true)
        {
            ClaimedSha256 = new string('a', 64),
        };
        FakeRepo repo = env.Hub.AddRepo(Repo, file, new FakeFile("config.json", HubTestEnvironment.Text("{}"), false));
        HubClient client = env.CreateClient();

        HubIntegrityException e = await Assert.ThrowsAsync<HubIntegrityException>(() => client.DownloadFileAsync(Repo, Weights));

        Assert.Contains(file.Sha256, e.Message, StringComparison.Ordinal);
        Assert.Contains(file.ClaimedSha256!, e.Message, StringComparison.Ordinal);
        Assert.Equal(1, env.Hub.BodyGets(Repo, Weights));
        string blobs = Path.Combine(env.RepoFolder(Repo), "blobs");
        Assert.Empty(Directory.Exists(blobs) ? Directory.GetFileSystemEntries(blobs) : []);
        Assert.False(File.Exists(Path.Combine(env.RepoFolder(Repo), "snapshots", repo.Commit, Weights)));

        // The same through a snapshot: the good file is published, the bad one is not.
        await Assert.ThrowsAsync<HubIntegrityException>(() => client.DownloadSnapshotAsync(Repo));
        Assert.Equal(["config.json"], HubCache.ListSnapshotFiles(Path.Combine(env.RepoFolder(Repo), "snapshots", repo.Commit)));
        Assert.False(File.Exists(Path.Combine(blobs, file.ClaimedSha256!)));
        Assert.False(File.Exists(Path.Combine(blobs, file.ClaimedSha256! + ".incomplete")));
    }

    [Fact]
    public async Task CancellationLeavesAResumableIncompleteFileAndNothingUnderSnapshots()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeFile file = new(Weights, HubTestEnvironment.Bytes(16 * 1024 * 1024, 11), true);
        FakeRepo repo = env.Hub.AddRepo(Repo, file);
        env.Hub.FaultsFor(Repo, Weights).ChunkDelayMs = 2;
        HubClient client = env.CreateClient();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.BytesDownloaded >= 4 * 1024 * 1024)
            {
                cts.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DownloadFileAsync(Repo, Weights, progress: progress, cancellationToken: cts.Token));

        string incomplete = Path.Combine(env.RepoFolder(Repo), "blobs", file.Etag + ".incomplete");
        long kept = new FileInfo(incomplete).Length;
        Assert.InRange(kept, 4 * 1024 * 1024, file.Content.Length - 1);
        Assert.False(File.Exists(Path.Combine(env.RepoFolder(Repo), "blobs", file.Etag)));
        Assert.False(File.Exists(Path.Combine(env.RepoFolder(Repo), "snapshots", repo.Commit, Weights)));

        env.Hub.FaultsFor(Repo, Weights).ChunkDelayMs = 0;
        var resumedFrom = new List<long>();
        string local = await client.DownloadFileAsync(Repo, Weights, progress: new SyncProgress(p => resumedFrom.Add(p.BytesDownloaded)));

        Assert.Equal(file.Sha256, HubTestEnvironment.Sha256(local));
        Assert.Equal(kept, resumedFrom[0]);
        Assert.Contains(env.Hub.Requests, r => r.Method == "GET" && r.Range == $"bytes={kept}-" && r.Status == 206);
        Assert.Equal(2, env.Hub.BodyGets(Repo, Weights));
    }

    [Fact]
    public async Task AConnectionThatHangsMidBodyIsResumedAfterTheIdleTimeout()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeFile file = new(Weights, HubTestEnvironment.Bytes(2_000_000, 13), true);
        env.Hub.AddRepo(Repo, file);
        env.Hub.FaultsFor(Repo, Weights).StallAfter.Enqueue(500_000);
        HubClient client = env.CreateClient(o => o.ReadIdleTimeout = TimeSpan.FromMilliseconds(500));

        string local = await client.DownloadFileAsync(Repo, Weights);

        Assert.Equal(file.Sha256, HubTestEnvironment.Sha256(local));
        Assert.Equal(2, env.Hub.BodyGets(Repo, Weights));
        Assert.Contains(env.Hub.Requests, r => r.Method == "GET" && r.Range == "bytes=500000-" && r.Status == 206);
        Assert.Contains(env.Logs, l => l.Contains("Connection lost while downloading", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithACachedCopyAFailingHubIsAskedOnceAndTheCacheIsUsed()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeFile file = new(Weights, HubTestEnvironment.Bytes(1000, 14), true);
        env.Hub.AddRepo(Repo, file);
        HubClient client = env.CreateClient(o => o.MaxRetries = 5);
        string first = await client.DownloadFileAsync(Repo, Weights);

        env.Hub.FaultsFor(Repo, Weights).PermanentHeadStatus = 503;
        int heads = env.Hub.Heads(Repo, Weights);
        Assert.Equal(first, await client.DownloadFileAsync(Repo, Weights));
        Assert.Equal(heads + 1, env.Hub.Heads(Repo, Weights));
        Assert.Contains(env.Logs, l => l.Contains("using the cached", StringComparison.Ordinal));
    }
}
