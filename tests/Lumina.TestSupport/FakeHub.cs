using System.Collections.Concurrent;
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

namespace Lumina.Testing;

/// <summary>One file of a fake repository.</summary>
public sealed class FakeFile
{
    public FakeFile(string path, byte[] content, bool lfs)
    {
        Path = path;
        Content = content;
        Lfs = lfs;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        byte[] header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        GitSha1 = Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }

    public string Path { get; }

    public byte[] Content { get; }

    public bool Lfs { get; }

    public string Sha256 { get; }

    public string GitSha1 { get; }

    /// <summary>The sha256 the server announces; set it to something else to serve corrupt content.</summary>
    public string? ClaimedSha256 { get; set; }

    /// <summary>The etag huggingface_hub names the blob by.</summary>
    public string Etag => Lfs ? ClaimedSha256 ?? Sha256 : GitSha1;
}

/// <summary>A fake repository at one commit.</summary>
public sealed class FakeRepo
{
    public FakeRepo(string id, IEnumerable<FakeFile> files)
    {
        Id = id;
        Commit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        foreach (FakeFile f in files)
        {
            Files[f.Path] = f;
        }
    }

    public string Id { get; }

    public string Commit { get; set; }

    public ConcurrentDictionary<string, FakeFile> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Branch and tag names besides main that point to <see cref="Commit"/>.</summary>
    public HashSet<string> Branches { get; } = ["main"];

    public bool Gated { get; set; }
}

/// <summary>Faults injected on one file (keyed by "repo/path").</summary>
public sealed class FileFaults
{
    /// <summary>Statuses answered to HEAD requests before the real answer (status, Retry-After seconds).</summary>
    public ConcurrentQueue<(int Status, int? RetryAfter)> Head { get; } = new();

    /// <summary>Statuses answered to body GETs before the real answer.</summary>
    public ConcurrentQueue<(int Status, int? RetryAfter)> Get { get; } = new();

    /// <summary>Every HEAD answers this status (a permanent failure) when set.</summary>
    public int? PermanentHeadStatus { get; set; }

    /// <summary>For each of the next body GETs, drop the connection after this many body bytes.</summary>
    public ConcurrentQueue<long> DropAfter { get; } = new();

    /// <summary>For each of the next body GETs, stop sending (but keep the connection open) after this many bytes.</summary>
    public ConcurrentQueue<long> StallAfter { get; } = new();

    /// <summary>Pause after each 64 KiB chunk of body.</summary>
    public int ChunkDelayMs { get; set; }

    /// <summary>Body GETs wait until this many HEADs were seen for the file (or 20 s passed).</summary>
    public int WaitForHeads { get; set; }
}

/// <summary>One request the fake servers received.</summary>
public sealed record RequestRecord(string Authority, string Method, string Path, string? Authorization, string? Range, int Status, DateTime Time);

/// <summary>
/// The one fake Hugging Face Hub of the tests, emulated on 127.0.0.1 with its CDN on 127.0.0.2 (both Kestrel, random
/// ports): the repo API, resolve HEAD/GET with the Hub's headers, redirects of LFS files to the CDN, Range, error codes,
/// gating, and injected faults. It counts requests and body bytes served. The Hub client tests, the pipelines'
/// FromPretrained("org/name") tests and the samples' download tests (the CLI, the web demo) all talk to it.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    private const int Chunk = 64 * 1024;
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _bytesServed = new();
    private readonly ConcurrentDictionary<string, int> _bodyGets = new();
    private readonly ConcurrentDictionary<string, int> _heads = new();
    private int _activeBodies;
    private int _maxActiveBodies;

    private FakeHub(WebApplication app, Uri endpoint, Uri cdn)
    {
        _app = app;
        Endpoint = endpoint;
        Cdn = cdn;
    }

    public Uri Endpoint { get; }

    public Uri Cdn { get; }

    public string Token { get; set; } = "hf_fake_token_for_gated_repos";

    public ConcurrentDictionary<string, FakeRepo> Repos { get; } = new(StringComparer.Ordinal);

    /// <summary>Old repo id → new repo id: requests for the old one get a relative redirect.</summary>
    public ConcurrentDictionary<string, string> Renamed { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, FileFaults> Faults { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<RequestRecord> Requests { get; } = new();

    /// <summary>The most body downloads that were in flight at once.</summary>
    public int MaxConcurrentBodies => Volatile.Read(ref _maxActiveBodies);

    public static async Task<FakeHub> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Listen(IPAddress.Parse("127.0.0.2"), 0);
        });
        WebApplication app = builder.Build();
        FakeHub? hub = null;
        app.Run(ctx => hub!.HandleAsync(ctx));
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        hub = new FakeHub(app, addresses.Single(a => a.Host == "127.0.0.1"), addresses.Single(a => a.Host == "127.0.0.2"));
        return hub;
    }

    /// <summary>While set and not completed, every file body waits for it before its first byte (a download that is
    /// visibly in progress).</summary>
    public TaskCompletionSource? HoldBodies { get; set; }

    /// <summary>
    /// Publishes <paramref name="files"/> (repository path → content) as repository <paramref name="id"/> at a random
    /// commit; <c>.safetensors</c> and SentencePiece <c>.model</c> files are served as LFS files (through the CDN).
    /// </summary>
    public FakeRepo AddRepo(string id, IReadOnlyDictionary<string, byte[]> files) =>
        AddRepo(id, files.Select(f => new FakeFile(f.Key, f.Value,
            f.Key.EndsWith(".safetensors", StringComparison.Ordinal) || f.Key.EndsWith(".model", StringComparison.Ordinal))).ToArray());

    /// <summary>Publishes every file under <paramref name="folder"/> as repository <paramref name="id"/> (see
    /// <see cref="AddRepo(string, IReadOnlyDictionary{string, byte[]})"/>).</summary>
    public FakeRepo AddFolder(string id, string folder) =>
        AddRepo(id, Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal));

    public FakeRepo AddRepo(string id, params FakeFile[] files)
    {
        var repo = new FakeRepo(id, files);
        Repos[id] = repo;
        return repo;
    }

    public FileFaults FaultsFor(string repoId, string path) => Faults.GetOrAdd($"{repoId}/{path}", _ => new FileFaults());

    public long BytesServed(string repoId, string path) => _bytesServed.GetValueOrDefault($"{repoId}/{path}");

    public int BodyGets(string repoId, string path) => _bodyGets.GetValueOrDefault($"{repoId}/{path}");

    public int Heads(string repoId, string path) => _heads.GetValueOrDefault($"{repoId}/{path}");

    public int TotalBodyGets => _bodyGets.Values.Sum();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        string authority = $"{ctx.Connection.LocalIpAddress}:{ctx.Connection.LocalPort}";
        // Record the request when its response starts, so the record exists before the client can see the answer
        // (recording only at the end raced with tests that look right after a download returns). A request whose
        // response never starts (an aborted connection) is recorded at the end.
        int recorded = 0;
        void Record()
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0)
            {
                Requests.Enqueue(new RequestRecord(
                    authority,
                    ctx.Request.Method,
                    ctx.Request.Path.Value ?? string.Empty,
                    ctx.Request.Headers.Authorization.FirstOrDefault(),
                    ctx.Request.Headers.Range.FirstOrDefault(),
                    ctx.Response.StatusCode,
                    DateTime.UtcNow));
            }
        }

        ctx.Response.OnStarting(() =>
        {
            Record();
            return Task.CompletedTask;
        });
        try
        {
            bool onCdn = ctx.Connection.LocalPort == Cdn.Port;
            string path = ctx.Request.Path.Value ?? "/";
            if (onCdn && path.StartsWith("/cdn/", StringComparison.Ordinal))
            {
                await ServeCdnAsync(ctx, path["/cdn/".Length..]);
            }
            else if (!onCdn && path.StartsWith("/api/models/", StringComparison.Ordinal))
            {
                await ServeApiAsync(ctx, path["/api/models/".Length..]);
            }
            else if (!onCdn && path.Contains("/resolve/", StringComparison.Ordinal))
            {
                await ServeResolveAsync(ctx, path[1..]);
            }
            else
            {
                ctx.Response.StatusCode = 404;
            }
        }
        finally
        {
            Record();
        }
    }

    private bool TryRepo(HttpContext ctx, string repoId, string prefix, string rest, out FakeRepo repo)
    {
        repo = null!;
        if (Renamed.TryGetValue(repoId, out string? newId))
        {
            ctx.Response.StatusCode = 307;
            ctx.Response.Headers.Location = $"{prefix}{newId}/{rest}";
            return false;
        }

        if (!Repos.TryGetValue(repoId, out repo!))
        {
            Error(ctx, 404, "RepoNotFound", "Repository not found");
            return false;
        }

        if (repo.Gated && ctx.Request.Headers.Authorization.FirstOrDefault() != $"Bearer {Token}")
        {
            Error(ctx, ctx.Request.Headers.Authorization.Count == 0 ? 401 : 403, "GatedRepo", "Access to this repo is restricted");
            return false;
        }

        return true;
    }

    private static bool TryRevision(HttpContext ctx, FakeRepo repo, string revision)
    {
        if (repo.Branches.Contains(revision) || revision == repo.Commit)
        {
            return true;
        }

        Error(ctx, 404, "RevisionNotFound", "Invalid rev id");
        return false;
    }

    private async Task ServeApiAsync(HttpContext ctx, string rest)
    {
        // {org}/{name}/revision/{rev}
        string[] parts = rest.Split('/', 4);
        if (parts.Length < 4 || parts[2] != "revision")
        {
            ctx.Response.StatusCode = 404;
            return;
        }

        string repoId = $"{parts[0]}/{parts[1]}";
        if (!TryRepo(ctx, repoId, "/api/models/", $"revision/{parts[3]}", out FakeRepo repo) || !TryRevision(ctx, repo, Uri.UnescapeDataString(parts[3])))
        {
            return;
        }

        var siblings = repo.Files.Values.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => f.Lfs
            ? (object)new { rfilename = f.Path, size = f.Content.LongLength, blobId = f.GitSha1, lfs = new { sha256 = f.Etag, size = f.Content.LongLength, pointerSize = 134 } }
            : new { rfilename = f.Path, size = f.Content.LongLength, blobId = f.GitSha1 });
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(JsonSerializer.Serialize(new { id = repoId, sha = repo.Commit, siblings }));
    }

    private async Task ServeResolveAsync(HttpContext ctx, string rest)
    {
        // {org}/{name}/resolve/{rev}/{path}
        string[] parts = rest.Split('/', 5);
        if (parts.Length < 5 || parts[2] != "resolve")
        {
            ctx.Response.StatusCode = 404;
            return;
        }

        string repoId = $"{parts[0]}/{parts[1]}";
        string filePath = string.Join('/', parts[4].Split('/').Select(Uri.UnescapeDataString));
        string key = $"{repoId}/{filePath}";
        bool head = HttpMethods.IsHead(ctx.Request.Method);
        if (head)
        {
            _heads.AddOrUpdate(key, 1, (_, n) => n + 1);
            FileFaults faults = FaultsFor(repoId, filePath);
            if (faults.PermanentHeadStatus is { } permanent)
            {
                ctx.Response.StatusCode = permanent;
                return;
            }

            if (faults.Head.TryDequeue(out var fault))
            {
                Fault(ctx, fault);
                return;
            }
        }

        if (!TryRepo(ctx, repoId, "/", $"resolve/{parts[3]}/{parts[4]}", out FakeRepo repo) || !TryRevision(ctx, repo, Uri.UnescapeDataString(parts[3])))
        {
            return;
        }

        if (!repo.Files.TryGetValue(filePath, out FakeFile? file))
        {
            Error(ctx, 404, "EntryNotFound", "Entry not found");
            return;
        }

        ctx.Response.Headers["X-Repo-Commit"] = repo.Commit;
        if (file.Lfs)
        {
            // Like the Hub: LFS files redirect to the CDN, with the LFS sha256 and size in X-Linked-*.
            ctx.Response.StatusCode = 302;
            ctx.Response.Headers.Location = $"{Cdn.GetLeftPart(UriPartial.Authority)}/cdn/{repoId}/{parts[4]}?expires=never";
            ctx.Response.Headers["X-Linked-Etag"] = $"\"{file.Etag}\"";
            ctx.Response.Headers["X-Linked-Size"] = file.Content.LongLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
            ctx.Response.Headers.ETag = $"W/\"{file.GitSha1[..20]}\"";
            return;
        }

        ctx.Response.Headers.ETag = $"\"{file.GitSha1}\"";
        if (head)
        {
            ctx.Response.ContentLength = file.Content.LongLength;
            return;
        }

        await ServeBodyAsync(ctx, key, file);
    }

    private async Task ServeCdnAsync(HttpContext ctx, string rest)
    {
        string[] parts = rest.Split('/', 3);
        string repoId = $"{parts[0]}/{parts[1]}";
        string filePath = string.Join('/', parts[2].Split('/').Select(Uri.UnescapeDataString));
        if (!Repos.TryGetValue(repoId, out FakeRepo? repo) || !repo.Files.TryGetValue(filePath, out FakeFile? file))
        {
            ctx.Response.StatusCode = 404;
            return;
        }

        await ServeBodyAsync(ctx, $"{repoId}/{filePath}", file);
    }

    private async Task ServeBodyAsync(HttpContext ctx, string key, FakeFile file)
    {
        FileFaults faults = Faults.GetOrAdd(key, _ => new FileFaults());
        if (faults.Get.TryDequeue(out var fault))
        {
            Fault(ctx, fault);
            return;
        }

        _bodyGets.AddOrUpdate(key, 1, (_, n) => n + 1);
        // A body counts as in flight from its first byte until just before its last chunk is written: once the client
        // has the whole body it may start the next download at once, before this handler would run a finally block,
        // so releasing later would count a download the client has already finished (a flaky "3 at once" under load).
        int released = 0;
        void Release()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                Interlocked.Decrement(ref _activeBodies);
            }
        }

        int active = Interlocked.Increment(ref _activeBodies);
        int seen;
        while ((seen = Volatile.Read(ref _maxActiveBodies)) < active && Interlocked.CompareExchange(ref _maxActiveBodies, active, seen) != seen)
        {
        }

        try
        {
            if (HoldBodies is { } hold)
            {
                await hold.Task.WaitAsync(ctx.RequestAborted);
            }

            if (faults.WaitForHeads > 0)
            {
                DateTime until = DateTime.UtcNow.AddSeconds(20);
                while (_heads.GetValueOrDefault(key) < faults.WaitForHeads && DateTime.UtcNow < until)
                {
                    await Task.Delay(20);
                }
            }

            long length = file.Content.LongLength;
            long start = 0;
            string? range = ctx.Request.Headers.Range.FirstOrDefault();
            if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
            {
                start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
                if (start >= length)
                {
                    ctx.Response.StatusCode = 416;
                    ctx.Response.Headers.ContentRange = $"bytes */{length}";
                    return;
                }

                ctx.Response.StatusCode = 206;
                ctx.Response.Headers.ContentRange = $"bytes {start}-{length - 1}/{length}";
            }

            ctx.Response.ContentLength = length - start;
            ctx.Response.ContentType = "application/octet-stream";
            long dropAfter = faults.DropAfter.TryDequeue(out long d) ? d : long.MaxValue;
            bool stall = false;
            if (faults.StallAfter.TryDequeue(out long st))
            {
                dropAfter = st;
                stall = true;
            }

            long sent = 0;
            for (long offset = start; offset < length;)
            {
                int n = (int)Math.Min(Chunk, Math.Min(length - offset, dropAfter - sent));
                if (offset + n >= length)
                {
                    Release();
                }

                await ctx.Response.Body.WriteAsync(file.Content.AsMemory((int)offset, n), ctx.RequestAborted);
                _bytesServed.AddOrUpdate(key, n, (_, v) => v + n);
                offset += n;
                sent += n;
                if (sent >= dropAfter)
                {
                    // Let what was written reach the socket, then cut the connection: the client gets those bytes
                    // and then a body shorter than Content-Length, as with a real dropped connection.
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                    if (stall)
                    {
                        // A hung connection: nothing more is sent until the client gives up.
                        await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
                    }

                    await Task.Delay(250);
                    ctx.Abort();
                    return;
                }

                if (faults.ChunkDelayMs > 0)
                {
                    await Task.Delay(faults.ChunkDelayMs, ctx.RequestAborted);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client went away (for example a cancelled download); nothing to answer.
        }
        finally
        {
            Release();
        }
    }

    private static void Fault(HttpContext ctx, (int Status, int? RetryAfter) fault)
    {
        ctx.Response.StatusCode = fault.Status;
        if (fault.RetryAfter is { } seconds)
        {
            ctx.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static void Error(HttpContext ctx, int status, string code, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.Headers["X-Error-Code"] = code;
        ctx.Response.Headers["X-Error-Message"] = message;
    }
}
