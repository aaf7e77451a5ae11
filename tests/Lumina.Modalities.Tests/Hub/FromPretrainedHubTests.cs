#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI 10.x.
using Lumina.Modalities.Tests.Pipelines;
using System.Net;
using Lumina.DependencyInjection;
using Lumina.Hub;
using Lumina.Pipelines;
using Lumina.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Lumina.Modalities.Tests.Hub;

/// <summary>
/// <c>FromPretrained("org/name")</c> through Lumina.Hub against a fake Hub on 127.0.0.1: both layouts, the original
/// layout's text encoder and VAE fetched from their own repos, and the cache folder of <see cref="LuminaOptions"/>.
/// </summary>
public sealed class FromPretrainedHubTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>, IAsyncLifetime
{
    private FakeHub hub = null!;
    private readonly TempFolder home = new("lumina-hub-home");

    public async Task InitializeAsync()
    {
        hub = await FakeHub.StartAsync();
        Publish("Alpha-VLLM/Lumina-Next-SFT-diffusers", folders.Diffusers);
        Publish("Alpha-VLLM/Lumina-Next-SFT", folders.Original);
        Publish("google/gemma-2b", folders.GemmaFolder);
        Publish("stabilityai/sdxl-vae", folders.VaeFolder);
    }

    public async Task DisposeAsync()
    {
        await hub.DisposeAsync();
        home.Dispose();
    }

    [Fact]
    public async Task BothLayoutsDownloadAndGiveTheLocalPixels()
    {
        var cache = Path.Combine(home.Path, "cache");
        var client = Client(cache);
        using var fromHubDiffusers = await LuminaPipeline.TextToImage().FromPretrained("Alpha-VLLM/Lumina-Next-SFT-diffusers").WithHub(client).BuildAsync();
        using var fromHubOriginal = await LuminaPipeline.TextToImage().FromPretrained("Alpha-VLLM/Lumina-Next-SFT")
            .WithTransformerConfig(TinyLuminaNextFolders.DiT).WithHub(client).BuildAsync();
        using var local = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();

        var request = TinyLuminaNextFolders.Request(seed: 3);
        using var a = await fromHubDiffusers.GenerateAsync(request);
        using var b = await fromHubOriginal.GenerateAsync(request);
        using var c = await local.GenerateAsync(request);
        Assert.Equal(EndToEndTests.Pixels(c.Images[0]), EndToEndTests.Pixels(a.Images[0]));
        Assert.Equal(EndToEndTests.Pixels(c.Images[0]), EndToEndTests.Pixels(b.Images[0]));
        Assert.Equal("Alpha-VLLM/Lumina-Next-SFT-diffusers", a.Metadata[0].ModelId);

        // huggingface_hub's cache layout, so Python and .NET share downloads.
        Assert.True(Directory.Exists(Path.Combine(cache, "models--Alpha-VLLM--Lumina-Next-SFT-diffusers", "snapshots")));
        Assert.True(Directory.Exists(Path.Combine(cache, "models--google--gemma-2b", "snapshots")));
        Assert.True(Directory.Exists(Path.Combine(cache, "models--stabilityai--sdxl-vae", "snapshots")));

        // a second build is served from the cache: no new body downloads.
        var gets = hub.TotalBodyGets;
        using var again = await LuminaPipeline.TextToImage().FromPretrained("Alpha-VLLM/Lumina-Next-SFT-diffusers").WithHub(client).BuildAsync();
        Assert.Equal(gets, hub.TotalBodyGets);
    }

    [Fact]
    public async Task DiImageGeneratorDownloadsIntoTheConfiguredCacheFolder()
    {
        var cache = Path.Combine(home.Path, "di-cache");
        var services = new ServiceCollection();
        services.AddLumina(o => o.CacheFolder = cache)
            .AddTextToImage(o => { o.Model = "Alpha-VLLM/Lumina-Next-SFT-diffusers"; o.Settings = TextToImagePresets.LuminaNext with { NumInferenceSteps = 1 }; })
            .AddImageGenerator();
        services.Configure<HubOptions>(o => Isolate(o));
        await using var provider = services.BuildServiceProvider();
        var response = await provider.GetRequiredService<IImageGenerator>().GenerateAsync(
            new ImageGenerationRequest("a lighthouse"), new ImageGenerationOptions { ImageSize = new System.Drawing.Size(32, 32) });
        Assert.StartsWith("\u0089PNG", System.Text.Encoding.Latin1.GetString(((DataContent)Assert.Single(response.Contents)).Data.Span[..4]));
        Assert.True(Directory.Exists(Path.Combine(cache, "models--Alpha-VLLM--Lumina-Next-SFT-diffusers")));
    }

    private HubClient Client(string cache) => FakeHubRepos.Client(hub, cache, home.Path);

    private void Isolate(HubOptions o) => FakeHubRepos.Isolate(hub, o, home.Path);

    private void Publish(string repo, string folder) => FakeHubRepos.Publish(hub, repo, folder);
}
