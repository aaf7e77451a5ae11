using System.Security.Cryptography;

namespace Lumina.Hub.Tests;

public sealed class OfflineAndCacheTests
{
    [Fact]
    public async Task OfflineModeServesACachedSnapshotAndFailsClearlyForAnUncachedOne()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeRepo repo = SnapshotDownloadTests.AddShardedRepo(env.Hub, "org/cached", 2000);
        string online = await env.CreateClient().DownloadSnapshotAsync("org/cached");
        int requests = env.Hub.Requests.Count;

        HubClient offline = env.CreateClient(o => o.Offline = true);
        Assert.Equal(online, await offline.DownloadSnapshotAsync("org/cached"));
        string config = await offline.DownloadFileAsync("org/cached", "transformer/config.json");
        Assert.Equal(Path.Combine(online, "transformer", "config.json"), config);
        Assert.Equal(await offline.DownloadFileAsync("org/cached", "vae/config.json", repo.Commit), Path.Combine(online, "vae", "config.json"));
        ResolvedModel model = await offline.DownloadModelAsync("org/cached");
        Assert.Equal(ModelLayout.Diffusers, model.Layout);
        Assert.Equal(requests, env.Hub.Requests.Count);

        HubOfflineException missingRepo = await Assert.ThrowsAsync<HubOfflineException>(() => offline.DownloadSnapshotAsync("org/never-downloaded"));
        Assert.Contains("org/never-downloaded", missingRepo.Message, StringComparison.Ordinal);
        Assert.Contains("HF_HUB_OFFLINE", missingRepo.Message, StringComparison.Ordinal);
        HubOfflineException missingFile = await Assert.ThrowsAsync<HubOfflineException>(() => offline.DownloadFileAsync("org/cached", "not/there.json"));
        Assert.Contains("not/there.json", missingFile.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<HubOfflineException>(() => offline.DownloadSnapshotAsync("org/cached", new SnapshotDownloadOptions { Revision = "v2" }));
        await Assert.ThrowsAsync<HubOfflineException>(() => offline.GetRepoInfoAsync("org/cached"));
        Assert.Equal(requests, env.Hub.Requests.Count);
    }

    [Fact]
    public async Task AnUnreachableHubFallsBackToTheCacheAndOtherwiseSaysSo()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        SnapshotDownloadTests.AddShardedRepo(env.Hub, "org/cached", 2000);
        string online = await env.CreateClient().DownloadSnapshotAsync("org/cached");

        // A port nothing listens on: connection refused.
        HubClient cut = env.CreateClient(o =>
        {
            o.Endpoint = "http://127.0.0.1:9";
            o.MaxRetries = 1;
        });
        Assert.Equal(online, await cut.DownloadSnapshotAsync("org/cached"));
        Assert.Equal(Path.Combine(online, "model_index.json"), await cut.DownloadFileAsync("org/cached", "model_index.json"));
        HubHttpException e = await Assert.ThrowsAsync<HubHttpException>(() => cut.DownloadFileAsync("org/other", "model_index.json"));
        Assert.Null(e.StatusCode);
        Assert.Contains("HF_HUB_OFFLINE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACacheTreeLaidOutLikeHuggingfaceHubIsFoundOfflineAndUsedOnline()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();

        // Lay the tree out by hand, exactly as huggingface_hub leaves it: blobs named by etag (git sha1 for small
        // files, sha256 for LFS files), refs/<branch> holding the commit, snapshots with relative symlinks, plus the
        // .no_exist folder and .locks it also writes.
        string commit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        string oldCommit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var index = new FakeFile("model_index.json", HubTestEnvironment.Text(SnapshotDownloadTests.ModelIndex), false);
        var config = new FakeFile("transformer/config.json", HubTestEnvironment.Text("{\"hidden_size\": 64}"), false);
        var weights = new FakeFile("transformer/diffusion_pytorch_model.safetensors", HubTestEnvironment.Safetensors("w", 4096, 5), true);
        var schedulerConfig = new FakeFile("scheduler/scheduler_config.json", HubTestEnvironment.Text("{}"), false);
        string repoFolder = env.RepoFolder("org/from-python");
        Directory.CreateDirectory(Path.Combine(repoFolder, "blobs"));
        Directory.CreateDirectory(Path.Combine(repoFolder, "refs"));
        Directory.CreateDirectory(Path.Combine(repoFolder, ".no_exist", commit));
        File.WriteAllText(Path.Combine(repoFolder, ".no_exist", commit, "tokenizer_config.json"), string.Empty);
        Directory.CreateDirectory(Path.Combine(env.CacheDirectory, ".locks", "models--org--from-python"));
        File.WriteAllText(Path.Combine(repoFolder, "refs", "main"), commit);
        File.WriteAllText(Path.Combine(repoFolder, "refs", "v1.0"), oldCommit);
        foreach (FakeFile f in new[] { index, config, weights, schedulerConfig })
        {
            File.WriteAllBytes(Path.Combine(repoFolder, "blobs", f.Etag), f.Content);
            foreach (string c in new[] { commit, oldCommit })
            {
                string pointer = Path.Combine(repoFolder, "snapshots", c, f.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
                string ups = string.Concat(Enumerable.Repeat("../", 2 + f.Path.Count(ch => ch == '/')));
                File.CreateSymbolicLink(pointer, $"{ups}blobs/{f.Etag}");
            }
        }

        HubClient offline = env.CreateClient(o => o.Offline = true);
        string weightsPath = await offline.DownloadFileAsync("org/from-python", weights.Path);
        Assert.Equal(Path.Combine(repoFolder, "snapshots", commit, "transformer", "diffusion_pytorch_model.safetensors"), weightsPath);
        Assert.Equal(weights.Content, File.ReadAllBytes(weightsPath));
        Assert.StartsWith(Path.Combine(repoFolder, "snapshots", oldCommit), await offline.DownloadFileAsync("org/from-python", config.Path, "v1.0"), StringComparison.Ordinal);
        Assert.StartsWith(Path.Combine(repoFolder, "snapshots", oldCommit), await offline.DownloadFileAsync("org/from-python", config.Path, oldCommit), StringComparison.Ordinal);
        Assert.Equal(Path.Combine(repoFolder, "snapshots", commit), await offline.DownloadSnapshotAsync("org/from-python"));
        ResolvedModel model = await offline.DownloadModelAsync("org/from-python");
        Assert.Equal(ModelLayout.Diffusers, model.Layout);
        Assert.Equal(commit, model.CommitHash);
        Assert.Equal([index.Path, schedulerConfig.Path, config.Path, weights.Path], model.Files);

        // Online, against a Hub at the same commit, the cached files are used as they are: metadata only, no body.
        FakeRepo repo = env.Hub.AddRepo("org/from-python", index, config, weights, schedulerConfig);
        repo.Commit = commit;
        HubClient online = env.CreateClient();
        Assert.Equal(weightsPath, await online.DownloadFileAsync("org/from-python", weights.Path));
        Assert.Equal(Path.Combine(repoFolder, "snapshots", commit), await online.DownloadSnapshotAsync("org/from-python"));
        Assert.Equal(0, env.Hub.TotalBodyGets);
        Assert.Equal(commit, File.ReadAllText(Path.Combine(repoFolder, "refs", "main")));
    }

    [Fact]
    public async Task ABlobAlreadyInTheCacheIsLinkedWithoutDownloadingForANewCommit()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        var weights = new FakeFile("model.safetensors", HubTestEnvironment.Bytes(500_000, 12), true);
        FakeRepo repo = env.Hub.AddRepo("org/moving", weights, new FakeFile("config.json", HubTestEnvironment.Text("{\"v\":1}"), false));
        HubClient client = env.CreateClient();
        await client.DownloadSnapshotAsync("org/moving");
        string firstCommit = repo.Commit;

        // A new commit changes the config only; the weights blob is shared.
        repo.Commit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        repo.Files["config.json"] = new FakeFile("config.json", HubTestEnvironment.Text("{\"v\":2}"), false);
        string folder = await client.DownloadSnapshotAsync("org/moving");

        Assert.EndsWith(repo.Commit, folder, StringComparison.Ordinal);
        Assert.Equal(1, env.Hub.BodyGets("org/moving", "model.safetensors"));
        Assert.Equal(2, env.Hub.BodyGets("org/moving", "config.json"));
        Assert.Equal(repo.Commit, File.ReadAllText(Path.Combine(env.RepoFolder("org/moving"), "refs", "main")));
        Assert.True(Directory.Exists(Path.Combine(env.RepoFolder("org/moving"), "snapshots", firstCommit)));
        Assert.Equal("{\"v\":2}", File.ReadAllText(Path.Combine(folder, "config.json")));
    }
}
