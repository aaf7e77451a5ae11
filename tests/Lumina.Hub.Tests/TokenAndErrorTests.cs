using Microsoft.Extensions.DependencyInjection;

namespace Lumina.Hub.Tests;

public sealed class TokenAndErrorTests
{
    private const string Secret = "hf_SECRETsecretSECRET0123456789";

    [Fact]
    public async Task TheTokenReachesTheEndpointAndNotTheCrossHostRedirect()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        env.Hub.Token = Secret;
        FakeRepo repo = env.Hub.AddRepo(
            "org/gated",
            new FakeFile("model.safetensors", HubTestEnvironment.Bytes(300_000, 20), true),
            new FakeFile("config.json", HubTestEnvironment.Text("{}"), false));
        repo.Gated = true;
        HubClient client = env.CreateClient(o => o.Token = Secret);

        string folder = await client.DownloadSnapshotAsync("org/gated");

        Assert.Equal(["config.json", "model.safetensors"], HubCache.ListSnapshotFiles(folder));
        var toEndpoint = env.Hub.Requests.Where(r => r.Authority.StartsWith("127.0.0.1:", StringComparison.Ordinal)).ToList();
        var toCdn = env.Hub.Requests.Where(r => r.Authority.StartsWith("127.0.0.2:", StringComparison.Ordinal)).ToList();
        Assert.Contains(toEndpoint, r => r.Path.StartsWith("/api/models/", StringComparison.Ordinal));
        Assert.Contains(toEndpoint, r => r.Method == "HEAD");
        Assert.Contains(toEndpoint, r => r.Method == "GET" && r.Path.EndsWith("config.json", StringComparison.Ordinal));
        Assert.All(toEndpoint, r => Assert.Equal($"Bearer {Secret}", r.Authorization));
        Assert.Single(toCdn);
        Assert.Null(toCdn[0].Authorization);

        // The token appears in no log line, at any level, including the HTTP client factory's own logging.
        Assert.NotEmpty(env.Logs);
        Assert.DoesNotContain(env.Logs, l => l.Contains(Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, client.Settings.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGatedRepoWithoutAValidTokenSaysToAcceptTheLicenceAndSetAToken()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        env.Hub.AddRepo("org/gated", new FakeFile("config.json", HubTestEnvironment.Text("{}"), false)).Gated = true;

        HubAccessDeniedException noToken = await Assert.ThrowsAsync<HubAccessDeniedException>(() => env.CreateClient().DownloadFileAsync("org/gated", "config.json"));
        Assert.Equal(401, noToken.StatusCode);
        Assert.Contains("accept its licence", noToken.Message, StringComparison.Ordinal);
        Assert.Contains("HF_TOKEN", noToken.Message, StringComparison.Ordinal);
        Assert.Contains("org/gated", noToken.Message, StringComparison.Ordinal);

        HubClient wrong = env.CreateClient(o => o.Token = Secret);
        HubAccessDeniedException badToken = await Assert.ThrowsAsync<HubAccessDeniedException>(() => wrong.GetRepoInfoAsync("org/gated"));
        Assert.Equal(403, badToken.StatusCode);
        Assert.Contains("does not grant access", badToken.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, badToken.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(env.Logs, l => l.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task NotFoundErrorsNameTheRepoTheRevisionOrTheFile()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        env.Hub.AddRepo("org/real", new FakeFile("config.json", HubTestEnvironment.Text("{}"), false));
        HubClient client = env.CreateClient();

        HubNotFoundException repo = await Assert.ThrowsAsync<HubNotFoundException>(() => client.DownloadFileAsync("org/missing", "config.json"));
        Assert.Equal(HubMissingKind.Repository, repo.Kind);
        Assert.Contains("'org/missing'", repo.Message, StringComparison.Ordinal);

        HubNotFoundException revision = await Assert.ThrowsAsync<HubNotFoundException>(() => client.DownloadFileAsync("org/real", "config.json", "no-such-branch"));
        Assert.Equal(HubMissingKind.Revision, revision.Kind);
        Assert.Contains("'no-such-branch'", revision.Message, StringComparison.Ordinal);

        HubNotFoundException file = await Assert.ThrowsAsync<HubNotFoundException>(() => client.DownloadFileAsync("org/real", "sub/missing.json"));
        Assert.Equal(HubMissingKind.File, file.Kind);
        Assert.Contains("'sub/missing.json'", file.Message, StringComparison.Ordinal);
        Assert.Contains("'org/real'", file.Message, StringComparison.Ordinal);
        Assert.Contains("'main'", file.Message, StringComparison.Ordinal);

        HubNotFoundException listing = await Assert.ThrowsAsync<HubNotFoundException>(() => client.DownloadSnapshotAsync("org/real", new SnapshotDownloadOptions { Revision = "v9" }));
        Assert.Equal(HubMissingKind.Revision, listing.Kind);

        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadFileAsync("org/real", "../escape.json"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.DownloadFileAsync("not a repo", "config.json"));
    }

    [Fact]
    public async Task MetadataFollowsRelativeRedirectsAndTakesTheCrossHostLocationForTheBody()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        var weights = new FakeFile("model.safetensors", HubTestEnvironment.Bytes(100_000, 21), true);
        FakeRepo repo = env.Hub.AddRepo("new-org/model", weights, new FakeFile("config.json", HubTestEnvironment.Text("{}"), false));
        env.Hub.Renamed["old-org/model"] = "new-org/model";
        HubClient client = env.CreateClient();

        HubFileMetadata lfs = await client.GetFileMetadataAsync("old-org/model", "model.safetensors");
        Assert.Equal(repo.Commit, lfs.CommitHash);
        Assert.Equal(weights.Sha256, lfs.Etag);
        Assert.True(lfs.IsSha256Etag);
        Assert.Equal(weights.Content.Length, lfs.Size);
        Assert.Equal(env.Hub.Cdn.Authority, lfs.DownloadUri.Authority);

        HubFileMetadata small = await client.GetFileMetadataAsync("old-org/model", "config.json");
        Assert.Equal(repo.Files["config.json"].GitSha1, small.Etag);
        Assert.Equal(2, small.Size);
        Assert.Equal("/new-org/model/resolve/main/config.json", small.DownloadUri.AbsolutePath);

        string local = await client.DownloadFileAsync("old-org/model", "model.safetensors");
        Assert.Equal(weights.Sha256, HubTestEnvironment.Sha256(local));
        Assert.Contains(env.Hub.Requests, r => r.Status == 307 && r.Path.StartsWith("/old-org/", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(env.RepoFolder("old-org/model"), "snapshots", repo.Commit, "model.safetensors"), local);

        RepoInfo info = await client.GetRepoInfoAsync("old-org/model");
        Assert.Equal(repo.Commit, info.CommitHash);
        Assert.Equal(weights.Sha256, info.Siblings.Single(s => s.Path == "model.safetensors").Lfs!.Sha256);
        Assert.Null(info.Siblings.Single(s => s.Path == "config.json").Lfs);
    }

    [Fact]
    public void SettingsComeFromTheEnvironmentAndEachExplicitOptionWins()
    {
        string root = Path.Combine(Path.GetTempPath(), "lumina-hub-tests", Guid.NewGuid().ToString("N"));
        try
        {
            string home = Path.Combine(root, "hf-home");
            Directory.CreateDirectory(home);
            File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");
            var env = new Dictionary<string, string?> { ["HF_HOME"] = home };

            HubSettings fromHome = HubSettings.Resolve(new HubOptions(), env.GetValueOrDefault);
            Assert.Equal(Path.Combine(home, "hub"), fromHome.CacheDirectory);
            Assert.Equal("hf_from_file", fromHome.Token);
            Assert.Equal(new Uri("https://huggingface.co"), fromHome.Endpoint);
            Assert.False(fromHome.Offline);

            env["HF_HUB_CACHE"] = Path.Combine(root, "cache");
            env["HF_ENDPOINT"] = "http://mirror.example:8080/";
            env["HF_TOKEN"] = "hf_from_env";
            env["HF_HUB_OFFLINE"] = "yes";
            HubSettings fromEnv = HubSettings.Resolve(new HubOptions(), env.GetValueOrDefault);
            Assert.Equal(Path.Combine(root, "cache"), fromEnv.CacheDirectory);
            Assert.Equal("http://mirror.example:8080/", fromEnv.Endpoint.ToString());
            Assert.Equal("hf_from_env", fromEnv.Token);
            Assert.True(fromEnv.Offline);
            Assert.DoesNotContain("hf_from_env", fromEnv.ToString(), StringComparison.Ordinal);

            var explicitOptions = new HubOptions
            {
                CacheDirectory = Path.Combine(root, "explicit"),
                Endpoint = "http://127.0.0.1:1",
                Token = string.Empty,
                Offline = false,
            };
            HubSettings fromOptions = HubSettings.Resolve(explicitOptions, env.GetValueOrDefault);
            Assert.Equal(Path.Combine(root, "explicit"), fromOptions.CacheDirectory);
            Assert.Equal("http://127.0.0.1:1/", fromOptions.Endpoint.ToString());
            Assert.False(fromOptions.HasToken);
            Assert.False(fromOptions.Offline);

            HubSettings xdg = HubSettings.Resolve(new HubOptions(), new Dictionary<string, string?> { ["XDG_CACHE_HOME"] = root }.GetValueOrDefault);
            Assert.Equal(Path.Combine(root, "huggingface", "hub"), xdg.CacheDirectory);
            Assert.Equal(Path.Combine(root, "huggingface", "token"), xdg.TokenPath);

            Assert.Throws<ArgumentException>(() => HubSettings.Resolve(new HubOptions { MaxParallelDownloads = 0 }, env.GetValueOrDefault));
            Assert.Throws<ArgumentException>(() => HubSettings.Resolve(new HubOptions { Endpoint = "ftp://x" }, env.GetValueOrDefault));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void AddLuminaHubRegistersOneClientWithItsOptionsAndAValidatedConfiguration()
    {
        var services = new ServiceCollection();
        IHttpClientBuilder builder = services.AddLuminaHub(o =>
        {
            o.Endpoint = "http://127.0.0.1:5";
            o.CacheDirectory = "/tmp/lumina-hub-di-test";
            o.Offline = true;
        });
        Assert.Equal(HubClient.HttpClientName, builder.Name);
        using ServiceProvider provider = services.BuildServiceProvider();
        HubClient client = provider.GetRequiredService<HubClient>();
        Assert.Same(client, provider.GetRequiredService<HubClient>());
        Assert.Equal("/tmp/lumina-hub-di-test", client.Settings.CacheDirectory);
        Assert.True(client.Settings.Offline);

        var bad = new ServiceCollection();
        bad.AddLuminaHub(o => o.MaxRetries = -1);
        using ServiceProvider badProvider = bad.BuildServiceProvider();
        Assert.ThrowsAny<Exception>(() => badProvider.GetRequiredService<HubClient>());
    }
}

public sealed class HttpClientMisuseTests
{
    [Fact]
    public async Task AnHttpClientThatFollowsRedirectsItselfIsReportedClearly()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        env.Hub.AddRepo("org/cdn", new FakeFile("model.safetensors", HubTestEnvironment.Bytes(1000, 40), true));
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true });
        var client = new HubClient(http, new HubOptions { Endpoint = env.Hub.Endpoint.ToString(), CacheDirectory = env.CacheDirectory, Token = string.Empty, Offline = false });

        HubException e = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync("org/cdn", "model.safetensors"));
        Assert.Contains("AllowAutoRedirect = false", e.Message, StringComparison.Ordinal);

        using var good = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        var working = new HubClient(good, new HubOptions { Endpoint = env.Hub.Endpoint.ToString(), CacheDirectory = env.CacheDirectory, Token = string.Empty, Offline = false });
        Assert.True(File.Exists(await working.DownloadFileAsync("org/cdn", "model.safetensors")));
    }
}
