using System.Collections.Concurrent;
using System.Text.Json;

namespace Lumina.Hub.Tests;

public sealed class SnapshotDownloadTests
{
    internal const string ModelIndex = """
        {"_class_name": "LuminaText2ImgPipeline", "_diffusers_version": "0.30.0",
         "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
         "transformer": ["diffusers", "LuminaNextDiT2DModel"],
         "vae": ["diffusers", "AutoencoderKL"]}
        """;

    /// <summary>A diffusers-style repo whose transformer is two safetensors shards plus their index.</summary>
    internal static FakeRepo AddShardedRepo(FakeHub hub, string id, int bigShardFloats)
    {
        byte[] shard1 = HubTestEnvironment.Safetensors("layers.0.weight", bigShardFloats, 1);
        byte[] shard2 = HubTestEnvironment.Safetensors("layers.1.weight", 1000, 2);
        string index = JsonSerializer.Serialize(new
        {
            metadata = new { total_size = ((long)bigShardFloats + 1000) * 4 },
            weight_map = new Dictionary<string, string>
            {
                ["layers.0.weight"] = "diffusion_pytorch_model-00001-of-00002.safetensors",
                ["layers.1.weight"] = "diffusion_pytorch_model-00002-of-00002.safetensors",
            },
        });
        return hub.AddRepo(
            id,
            new FakeFile(".gitattributes", HubTestEnvironment.Text("*.safetensors filter=lfs diff=lfs merge=lfs -text\n"), false),
            new FakeFile("README.md", HubTestEnvironment.Text("# test repo\n"), false),
            new FakeFile("model_index.json", HubTestEnvironment.Text(ModelIndex), false),
            new FakeFile("scheduler/scheduler_config.json", HubTestEnvironment.Text("{\"shift\": 1.0}"), false),
            new FakeFile("transformer/config.json", HubTestEnvironment.Text("{\"hidden_size\": 64}"), false),
            new FakeFile("transformer/diffusion_pytorch_model-00001-of-00002.safetensors", shard1, true),
            new FakeFile("transformer/diffusion_pytorch_model-00002-of-00002.safetensors", shard2, true),
            new FakeFile("transformer/diffusion_pytorch_model.safetensors.index.json", HubTestEnvironment.Text(index), false),
            new FakeFile("vae/config.json", HubTestEnvironment.Text("{\"latent_channels\": 4}"), false),
            new FakeFile("vae/diffusion_pytorch_model.safetensors", HubTestEnvironment.Safetensors("decoder.conv_in.weight", 5000, 3), true));
    }

    /// <summary>Every file and symlink under <paramref name="folder"/>: relative path → "file" or "-> target".</summary>
    internal static SortedDictionary<string, string> Tree(string folder)
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(entry);
            if (info.LinkTarget is { } target)
            {
                tree[Path.GetRelativePath(folder, entry)] = "-> " + target;
            }
            else if (!Directory.Exists(entry))
            {
                tree[Path.GetRelativePath(folder, entry)] = "file";
            }
        }

        return tree;
    }

    /// <summary>The tree huggingface_hub leaves after downloading <paramref name="files"/> of <paramref name="repo"/> at main.</summary>
    internal static SortedDictionary<string, string> ExpectedTree(FakeRepo repo, IEnumerable<FakeFile> files)
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["refs/main"] = "file" };
        foreach (FakeFile f in files)
        {
            tree[$"blobs/{f.Etag}"] = "file";
            string ups = string.Concat(Enumerable.Repeat("../", 2 + f.Path.Count(c => c == '/')));
            tree[$"snapshots/{repo.Commit}/{f.Path}"] = $"-> {ups}blobs/{f.Etag}";
        }

        return tree;
    }

    [Fact]
    public async Task MultiFileSnapshotWithA100MBShardIsByteIdenticalWithTheExpectedCacheTree()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeRepo repo = AddShardedRepo(env.Hub, "org/sharded", 26_500_000);
        FakeFile big = repo.Files["transformer/diffusion_pytorch_model-00001-of-00002.safetensors"];
        Assert.True(big.Content.Length > 100 * 1024 * 1024);
        HubClient client = env.CreateClient();
        var reports = new ConcurrentQueue<DownloadProgress>();

        string folder = await client.DownloadSnapshotAsync("org/sharded", progress: new SyncProgress(reports.Enqueue));

        string repoFolder = env.RepoFolder("org/sharded");
        Assert.Equal(Path.Combine(repoFolder, "snapshots", repo.Commit), folder);
        Assert.Equal(ExpectedTree(repo, repo.Files.Values), Tree(repoFolder));
        Assert.Equal(repo.Commit, File.ReadAllText(Path.Combine(repoFolder, "refs", "main")));
        foreach (FakeFile f in repo.Files.Values)
        {
            string local = Path.Combine(folder, f.Path);
            Assert.Equal(f.Sha256, HubTestEnvironment.Sha256(local));
            Assert.Equal(1, env.Hub.BodyGets("org/sharded", f.Path));
            Assert.True(File.Exists(Path.Combine(env.CacheDirectory, ".locks", "models--org--sharded", f.Etag + ".lock")));
        }

        // The index resolves every tensor to a shard that is present.
        using JsonDocument index = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "transformer", "diffusion_pytorch_model.safetensors.index.json")));
        foreach (JsonProperty entry in index.RootElement.GetProperty("weight_map").EnumerateObject())
        {
            Assert.True(File.Exists(Path.Combine(folder, "transformer", entry.Value.GetString()!)));
        }

        DownloadProgress last = reports.Last(r => r.File == big.Path);
        Assert.Equal(big.Content.LongLength, last.BytesDownloaded);
        Assert.Equal(big.Content.LongLength, last.TotalBytes);
        Assert.True(reports.Count(r => r.File == big.Path) > 10, "progress is reported while the large file arrives");

        // A second call finds everything in the cache and fetches no body again.
        int gets = env.Hub.TotalBodyGets;
        Assert.Equal(folder, await client.DownloadSnapshotAsync("org/sharded"));
        Assert.Equal(gets, env.Hub.TotalBodyGets);
    }

    [Fact]
    public async Task AllowAndIgnorePatternsSelectFilesAndParallelismIsBounded()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeRepo repo = env.Hub.AddRepo(
            "org/patterns",
            Enumerable.Range(0, 6).Select(i => new FakeFile($"weights/part{i}.safetensors", HubTestEnvironment.Bytes(300_000, i), true))
                .Append(new FakeFile("weights/part0.bin", HubTestEnvironment.Bytes(1000, 50), true))
                .Append(new FakeFile("config.json", HubTestEnvironment.Text("{}"), false))
                .Append(new FakeFile("docs/readme.md", HubTestEnvironment.Text("docs"), false))
                .ToArray());
        foreach (FakeFile f in repo.Files.Values)
        {
            env.Hub.FaultsFor("org/patterns", f.Path).ChunkDelayMs = 100;
        }

        HubClient client = env.CreateClient(o => o.MaxParallelDownloads = 8);
        string folder = await client.DownloadSnapshotAsync(
            "org/patterns",
            new SnapshotDownloadOptions { AllowPatterns = ["weights/", "*.json"], IgnorePatterns = ["*.bin", "*part5*"], MaxParallelDownloads = 2 });

        string[] expected = ["config.json", .. Enumerable.Range(0, 5).Select(i => $"weights/part{i}.safetensors")];
        Assert.Equal(expected, HubCache.ListSnapshotFiles(folder));
        Assert.Equal(0, env.Hub.BodyGets("org/patterns", "weights/part0.bin"));
        Assert.Equal(0, env.Hub.BodyGets("org/patterns", "docs/readme.md"));
        // The bound is what is promised. How many bodies overlap below it depends on scheduling: on a loaded machine
        // the thread pool may start the second download only after the first finished, so "exactly 2" was flaky.
        Assert.InRange(env.Hub.MaxConcurrentBodies, 1, 2);
    }

    [Theory]
    [InlineData("*.json", "config.json", true)]
    [InlineData("*.json", "vae/config.json", true)]
    [InlineData("vae/*", "vae/sub/x.bin", true)]
    [InlineData("vae/", "vae/config.json", true)]
    [InlineData("vae/", "vae2/config.json", false)]
    [InlineData("model-0000?.safetensors", "model-00001.safetensors", true)]
    [InlineData("[!a]*.md", "README.md", true)]
    [InlineData("[!R]*.md", "README.md", false)]
    [InlineData("*.JSON", "config.json", false)]
    [InlineData("a.b", "axb", false)]
    public void GlobPatternsFollowHuggingfaceHubSemantics(string pattern, string path, bool match) =>
        Assert.Equal(match, GlobPattern.IsMatch(pattern, path));
}

/// <summary>An IProgress that reports synchronously on the calling thread (Progress&lt;T&gt; posts asynchronously).</summary>
internal sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
{
    public void Report(DownloadProgress value) => report(value);
}
