using System.Net;
using Lumina.Hub;

namespace Lumina.Modalities.Tests.Hub;

/// <summary>Publishing local model folders on a <see cref="FakeHub"/> and Hub clients that talk only to it.</summary>
internal static class FakeHubRepos
{
    /// <summary>Serves every file of <paramref name="folder"/> as <paramref name="repo"/> (weights and tokenizers through LFS).</summary>
    public static void Publish(FakeHub hub, string repo, string folder) => hub.AddFolder(repo, folder);

    /// <summary>Points <paramref name="options"/> at <paramref name="hub"/> only, with its own HF home under <paramref name="home"/>.</summary>
    public static void Isolate(FakeHub hub, HubOptions options, string home)
    {
        options.Endpoint = hub.Endpoint.ToString();
        options.HomeDirectory = Path.Combine(home, "hf-home");
        options.Token = string.Empty;
        options.Offline = false;
        options.InitialRetryDelay = TimeSpan.FromMilliseconds(10);
    }

    /// <summary>A client of <paramref name="hub"/> caching in <paramref name="cache"/>.</summary>
    public static HubClient Client(FakeHub hub, string cache, string home)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None };
        var options = new HubOptions { CacheDirectory = cache };
        Isolate(hub, options, home);
        return new HubClient(new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }, options);
    }
}
