using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lumina.Samples.Tests;

/// <summary>
/// A small Hugging Face Hub on 127.0.0.1 (Kestrel, random port) speaking the parts of the protocol a snapshot download
/// uses: the revision API, resolve HEAD/GET with X-Repo-Commit and ETag, LFS files redirected to a CDN path with their
/// sha256 in X-Linked-Etag, and the Hub's 404 error codes.
/// </summary>
internal sealed class TinyHub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, Repo> _repos = new(StringComparer.Ordinal);

    private TinyHub(WebApplication app) => _app = app;

    /// <summary>The base address, for HF_ENDPOINT.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>How many file bodies were served.</summary>
    public int BodiesServed;

    /// <summary>While set and not completed, file bodies wait for it (a download that is visibly in progress).</summary>
    public TaskCompletionSource? HoldBodies { get; set; }

    public static async Task<TinyHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var hub = new TinyHub(app);
        app.Run(hub.HandleAsync);
        await app.StartAsync();
        hub.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return hub;
    }

    /// <summary>Adds a repository at a random commit; files whose name ends in .safetensors are served as LFS files.</summary>
    public string AddRepo(string id, IReadOnlyDictionary<string, byte[]> files)
    {
        var commit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        _repos[id] = new Repo(commit, files.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal));
        return commit;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record Repo(string Commit, Dictionary<string, byte[]> Files);

    private static bool IsLfs(string path) => path.EndsWith(".safetensors", StringComparison.Ordinal);

    private static string GitSha1(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        var parts = path.TrimStart('/').Split('/');
        // /api/models/{org}/{name}/revision/{rev}
        if (parts is ["api", "models", var org, var name, "revision", var rev])
        {
            if (!TryRepo(ctx, $"{org}/{name}", Uri.UnescapeDataString(rev), out var repo))
                return;
            var siblings = repo.Files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => IsLfs(f.Key)
                ? (object)new { rfilename = f.Key, size = f.Value.Length, lfs = new { sha256 = Convert.ToHexStringLower(SHA256.HashData(f.Value)), size = f.Value.Length } }
                : new { rfilename = f.Key, size = f.Value.Length });
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(JsonSerializer.Serialize(new { id = $"{org}/{name}", sha = repo.Commit, siblings }));
            return;
        }

        // /{org}/{name}/resolve/{rev}/{path...}
        if (parts.Length >= 5 && parts[2] == "resolve")
        {
            if (!TryRepo(ctx, $"{parts[0]}/{parts[1]}", Uri.UnescapeDataString(parts[3]), out var repo))
                return;
            var file = string.Join('/', parts[4..].Select(Uri.UnescapeDataString));
            if (!repo.Files.TryGetValue(file, out var content))
            {
                Error(ctx, "EntryNotFound", "Entry not found");
                return;
            }

            ctx.Response.Headers["X-Repo-Commit"] = repo.Commit;
            if (IsLfs(file))
            {
                ctx.Response.StatusCode = 302;
                ctx.Response.Headers.Location = $"{Endpoint.GetLeftPart(UriPartial.Authority)}/cdn/{parts[0]}/{parts[1]}/{string.Join('/', parts[4..])}";
                ctx.Response.Headers["X-Linked-Etag"] = $"\"{Convert.ToHexStringLower(SHA256.HashData(content))}\"";
                ctx.Response.Headers["X-Linked-Size"] = content.Length.ToString(CultureInfo.InvariantCulture);
                ctx.Response.Headers.ETag = $"W/\"{GitSha1(content)[..20]}\"";
                return;
            }

            ctx.Response.Headers.ETag = $"\"{GitSha1(content)}\"";
            await SendAsync(ctx, content);
            return;
        }

        // /cdn/{org}/{name}/{path...}: where LFS files redirect to.
        if (parts.Length >= 4 && parts[0] == "cdn" && _repos.TryGetValue($"{parts[1]}/{parts[2]}", out var cdnRepo)
            && cdnRepo.Files.TryGetValue(string.Join('/', parts[3..].Select(Uri.UnescapeDataString)), out var blob))
        {
            await SendAsync(ctx, blob);
            return;
        }

        ctx.Response.StatusCode = 404;
    }

    private async Task SendAsync(HttpContext ctx, byte[] content)
    {
        ctx.Response.ContentLength = content.Length;
        ctx.Response.ContentType = "application/octet-stream";
        if (HttpMethods.IsHead(ctx.Request.Method))
            return;
        Interlocked.Increment(ref BodiesServed);
        if (HoldBodies is { } hold)
            await hold.Task.WaitAsync(ctx.RequestAborted);
        await ctx.Response.Body.WriteAsync(content);
    }

    private bool TryRepo(HttpContext ctx, string id, string revision, out Repo repo)
    {
        if (!_repos.TryGetValue(id, out repo!))
        {
            Error(ctx, "RepoNotFound", "Repository not found");
            return false;
        }

        if (revision != "main" && revision != repo.Commit)
        {
            Error(ctx, "RevisionNotFound", "Invalid rev id");
            return false;
        }

        return true;
    }

    private static void Error(HttpContext ctx, string code, string message)
    {
        ctx.Response.StatusCode = 404;
        ctx.Response.Headers["X-Error-Code"] = code;
        ctx.Response.Headers["X-Error-Message"] = message;
    }
}
