using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lumina.Hub;

/// <summary>
/// A Hugging Face Hub client that shares Python's cache: files land in the huggingface_hub layout
/// (<see cref="HubCache"/>), so a cache filled by either side is used by the other. Downloads resume, retry, verify
/// sha256 and take a cross-process lock; offline mode serves the cache only.
/// Register it with <c>services.AddLuminaHub(options =&gt; ...)</c>.
/// </summary>
public sealed class HubClient
{
    /// <summary>The name of the <see cref="IHttpClientFactory"/> client the Hub client uses.</summary>
    public const string HttpClientName = "Lumina.Hub";

    private const int MaxRelativeRedirects = 10;
    private readonly HubOptions _options;
    private readonly HubTransport _transport;
    private readonly BlobDownloader _downloader;
    private readonly ILogger _logger;

    /// <summary>Creates the client from DI: HTTP through <paramref name="httpClientFactory"/>'s <see cref="HttpClientName"/> client.</summary>
    public HubClient(IHttpClientFactory httpClientFactory, IOptions<HubOptions> options, ILogger<HubClient>? logger = null)
        : this(() => httpClientFactory.CreateClient(HttpClientName), options?.Value ?? throw new ArgumentNullException(nameof(options)), null, logger)
    {
        ArgumentNullException.ThrowIfNull(httpClientFactory);
    }

    /// <summary>
    /// Creates the client over one <see cref="HttpClient"/>. Its handler must not follow redirects
    /// (<c>AllowAutoRedirect = false</c>) so that redirects are handled the way the Hub protocol needs.
    /// </summary>
    public HubClient(HttpClient httpClient, HubOptions? options = null, ILogger<HubClient>? logger = null)
        : this(() => httpClient, options ?? new HubOptions(), null, logger)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
    }

    internal HubClient(Func<HttpClient> httpClient, HubOptions options, HubSettings? settings, ILogger? logger)
    {
        _options = options;
        Settings = settings ?? HubSettings.Resolve(options);
        Cache = new HubCache(Settings.CacheDirectory);
        _logger = logger ?? NullLogger.Instance;
        _transport = new HubTransport(httpClient, Settings, options, _logger);
        _downloader = new BlobDownloader(_transport, _logger);
    }

    /// <summary>The settings in use (options merged with the environment; the token is not exposed).</summary>
    internal HubSettings Settings { get; }

    /// <summary>The cache this client reads and fills.</summary>
    public HubCache Cache { get; }

    /// <summary>Lists a repository at a revision: its commit and every file with size and LFS sha256.</summary>
    internal Task<RepoInfo> GetRepoInfoAsync(string repoId, string revision = "main", CancellationToken cancellationToken = default)
    {
        HubPaths.ValidateRepoId(repoId);
        HubPaths.ValidateRevision(revision);
        ThrowIfOffline($"listing repository '{repoId}'");
        return GetRepoInfoCoreAsync(repoId, revision, singleAttempt: false, cancellationToken);
    }

    private async Task<RepoInfo> GetRepoInfoCoreAsync(string repoId, string revision, bool singleAttempt, CancellationToken cancellationToken)
    {
        var uri = new Uri($"{Settings.Endpoint.AbsoluteUri.TrimEnd('/')}/api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        using HttpResponseMessage response = await SendFollowingRelativeRedirectsAsync(HttpMethod.Get, uri, $"Listing '{repoId}'", singleAttempt, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw _transport.ToException(response, repoId, revision, null);
        }

        string json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return ParseRepoInfo(repoId, revision, json);
    }

    /// <summary>
    /// Asks the Hub about a file with a HEAD request (relative redirects followed, an absolute redirect taken as the
    /// download location) and returns its commit, etag, size and download URL.
    /// </summary>
    internal Task<HubFileMetadata> GetFileMetadataAsync(string repoId, string path, string revision = "main", CancellationToken cancellationToken = default)
    {
        HubPaths.ValidateRepoId(repoId);
        HubPaths.ValidateFilePath(path);
        HubPaths.ValidateRevision(revision);
        ThrowIfOffline($"reading the metadata of '{path}' in '{repoId}'");
        return GetFileMetadataCoreAsync(repoId, path, revision, singleAttempt: false, cancellationToken);
    }

    /// <summary>
    /// Downloads one file into the cache (or finds it there) and returns its path under
    /// <c>snapshots/&lt;commit&gt;/</c>. Offline, or when the Hub cannot be reached, the cached copy is returned.
    /// </summary>
    /// <param name="repoId">The repository id, for example <c>Alpha-VLLM/Lumina-Next-SFT</c>.</param>
    /// <param name="path">The file inside the repository, with '/' separators.</param>
    /// <param name="revision">Branch, tag or commit.</param>
    /// <param name="progress">Receives bytes on disk and the total as the file arrives.</param>
    /// <param name="cancellationToken">Stops the download; the partial <c>.incomplete</c> file is kept and resumed next time.</param>
    public async Task<string> DownloadFileAsync(
        string repoId,
        string path,
        string revision = "main",
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        HubPaths.ValidateRepoId(repoId);
        HubPaths.ValidateFilePath(path);
        HubPaths.ValidateRevision(revision);
        if (Settings.Offline)
        {
            return Cache.TryGetFile(repoId, path, revision)
                ?? throw new HubOfflineException(
                    $"Offline mode is on (HubOptions.Offline or HF_HUB_OFFLINE) and '{path}' of '{repoId}' at revision '{revision}' is not in the cache {Settings.CacheDirectory}. Download it once while online, or turn offline mode off.");
        }

        if (HubCache.IsCommitHash(revision) && File.Exists(Cache.PointerPath(repoId, revision, path)))
        {
            return Cache.PointerPath(repoId, revision, path);
        }

        HubFileMetadata metadata;
        try
        {
            // With a cached copy to fall back on, one attempt is enough (as huggingface_hub does): an unreachable Hub
            // must not delay a cached model by the whole retry budget.
            bool cached = Cache.TryGetFile(repoId, path, revision) is not null;
            metadata = await GetFileMetadataCoreAsync(repoId, path, revision, cached, cancellationToken).ConfigureAwait(false);
        }
        catch (HubHttpException e) when (e.StatusCode is null or >= 500 && Cache.TryGetFile(repoId, path, revision) is { } cached)
        {
            _logger.LogWarning("The Hub could not be reached ({Error}); using the cached {File}.", e.Message, cached);
            return cached;
        }

        return await DownloadWithMetadataAsync(repoId, path, revision, metadata, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Downloads every file of a repository revision that passes the allow/ignore patterns, a few at a time, and
    /// returns the snapshot folder. Offline, or when the Hub cannot be reached, the cached snapshot folder is returned.
    /// </summary>
    public async Task<string> DownloadSnapshotAsync(
        string repoId,
        SnapshotDownloadOptions? options = null,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new SnapshotDownloadOptions();
        HubPaths.ValidateRepoId(repoId);
        HubPaths.ValidateRevision(options.Revision);
        RepoInfo? info = await TryGetRepoInfoOnlineAsync(repoId, options.Revision, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            return CachedSnapshotOrThrow(repoId, options.Revision);
        }

        var files = GlobPattern.Filter(info.Siblings.Select(s => s.Path), options.AllowPatterns, options.IgnorePatterns).ToList();
        Cache.WriteRef(repoId, options.Revision, info.CommitHash);
        await DownloadFilesAsync(repoId, info.CommitHash, files, options.MaxParallelDownloads, progress, cancellationToken).ConfigureAwait(false);
        string folder = Cache.SnapshotFolder(repoId, info.CommitHash);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>
    /// Works out whether a repository is a diffusers repository (<c>model_index.json</c>) or an original Lumina one
    /// (<c>consolidated*.safetensors</c>) and which files a pipeline needs, downloading only <c>model_index.json</c>.
    /// Offline it answers from the cached snapshot.
    /// </summary>
    public async Task<ResolvedModel> ResolveModelAsync(string repoId, ModelDownloadOptions? options = null, CancellationToken cancellationToken = default) =>
        (await ResolveModelCoreAsync(repoId, options ?? new ModelDownloadOptions(), cancellationToken).ConfigureAwait(false)).Model;

    /// <summary>
    /// Resolves a repository's layout (see <see cref="ResolveModelAsync"/>) and downloads only the files that layout
    /// needs. Returns where they are.
    /// </summary>
    public async Task<ResolvedModel> DownloadModelAsync(
        string repoId,
        ModelDownloadOptions? options = null,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new ModelDownloadOptions();
        (ResolvedModel model, bool fromCache) = await ResolveModelCoreAsync(repoId, options, cancellationToken).ConfigureAwait(false);
        if (!fromCache)
        {
            await DownloadFilesAsync(repoId, model.CommitHash, model.Files, options.MaxParallelDownloads, progress, cancellationToken).ConfigureAwait(false);
        }

        var missing = model.Files.Where(f => !File.Exists(model.LocalPath(f))).ToList();
        if (missing.Count > 0)
        {
            throw new HubOfflineException(
                $"The cached snapshot of '{repoId}' lacks {string.Join(", ", missing)}. Download the model once while online.");
        }

        return model;
    }

    private async Task<(ResolvedModel Model, bool FromCache)> ResolveModelCoreAsync(string repoId, ModelDownloadOptions options, CancellationToken cancellationToken)
    {
        HubPaths.ValidateRepoId(repoId);
        HubPaths.ValidateRevision(options.Revision);
        RepoInfo? info = await TryGetRepoInfoOnlineAsync(repoId, options.Revision, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            string folder = CachedSnapshotOrThrow(repoId, options.Revision);
            IReadOnlyList<string> cachedFiles = HubCache.ListSnapshotFiles(folder);
            string commit = Path.GetFileName(folder);
            return (Select(repoId, options, commit, folder, cachedFiles, () => File.ReadAllText(Path.Combine(folder, ModelFileSelector.ModelIndex))), true);
        }

        Cache.WriteRef(repoId, options.Revision, info.CommitHash);
        var files = info.Siblings.Select(s => s.Path).ToList();
        string? modelIndex = null;
        if (ModelFileSelector.Detect(files) == ModelLayout.Diffusers)
        {
            string indexPath = await DownloadFileAsync(repoId, ModelFileSelector.ModelIndex, info.CommitHash, null, cancellationToken).ConfigureAwait(false);
            modelIndex = await File.ReadAllTextAsync(indexPath, cancellationToken).ConfigureAwait(false);
        }

        return (Select(repoId, options, info.CommitHash, Cache.SnapshotFolder(repoId, info.CommitHash), files, () => modelIndex!), false);
    }

    private static ResolvedModel Select(string repoId, ModelDownloadOptions options, string commit, string folder, IReadOnlyList<string> files, Func<string> readModelIndex)
    {
        ModelLayout layout = ModelFileSelector.Detect(files)
            ?? throw new HubLayoutException(ModelFileSelector.NoLayoutMessage(repoId, options.Revision));
        IReadOnlyList<string> selected = layout == ModelLayout.Diffusers
            ? ModelFileSelector.SelectDiffusers(repoId, files, readModelIndex(), options.Variant)
            : ModelFileSelector.SelectOriginal(repoId, files, options.UseEma);
        return new ResolvedModel(repoId, commit, folder, selected) { Layout = layout };
    }

    private async Task<RepoInfo?> TryGetRepoInfoOnlineAsync(string repoId, string revision, CancellationToken cancellationToken)
    {
        if (Settings.Offline)
        {
            return null;
        }

        try
        {
            bool cached = Cache.TryGetSnapshotFolder(repoId, revision) is not null;
            return await GetRepoInfoCoreAsync(repoId, revision, cached, cancellationToken).ConfigureAwait(false);
        }
        catch (HubHttpException e) when (e.StatusCode is null or >= 500 && Cache.TryGetSnapshotFolder(repoId, revision) is not null)
        {
            _logger.LogWarning("The Hub could not be reached ({Error}); using the cached snapshot of {RepoId}.", e.Message, repoId);
            return null;
        }
    }

    private string CachedSnapshotOrThrow(string repoId, string revision) =>
        Cache.TryGetSnapshotFolder(repoId, revision)
        ?? throw new HubOfflineException(
            $"Offline mode is on (HubOptions.Offline or HF_HUB_OFFLINE) and the cache {Settings.CacheDirectory} has no snapshot of '{repoId}' at revision '{revision}' (no refs/{revision} or snapshots/<commit> under {HubCache.RepoFolderName(repoId)}). Download it once while online, or turn offline mode off.");

    private async Task DownloadFilesAsync(
        string repoId,
        string commit,
        IReadOnlyList<string> files,
        int? parallelism,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, parallelism ?? _options.MaxParallelDownloads),
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(files, parallel, async (file, ct) =>
            await DownloadFileAsync(repoId, file, commit, progress, ct).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private async Task<string> DownloadWithMetadataAsync(
        string repoId,
        string path,
        string revision,
        HubFileMetadata metadata,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        Cache.WriteRef(repoId, revision, metadata.CommitHash);
        string pointer = Cache.PointerPath(repoId, metadata.CommitHash, path);
        if (File.Exists(pointer))
        {
            return pointer;
        }

        string blob = Cache.BlobPath(repoId, metadata.Etag);
        if (!File.Exists(blob))
        {
            using CacheFileLock fileLock = await CacheFileLock.AcquireAsync(Cache.LockPath(repoId, metadata.Etag), _options.LockTimeout, _logger, cancellationToken).ConfigureAwait(false);
            if (!File.Exists(blob))
            {
                _logger.LogInformation("Downloading {File} of {RepoId} ({Size} bytes).", path, repoId, metadata.Size);
                await _downloader.DownloadAsync(metadata, blob, path, progress, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _logger.LogDebug("{File} was downloaded by another process meanwhile.", path);
            }
        }

        HubCache.LinkPointer(blob, pointer);
        return pointer;
    }

    private async Task<HubFileMetadata> GetFileMetadataCoreAsync(string repoId, string path, string revision, bool singleAttempt, CancellationToken cancellationToken)
    {
        var uri = new Uri($"{Settings.Endpoint.AbsoluteUri.TrimEnd('/')}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{HubPaths.EscapePath(path)}");
        for (int hop = 0; ; hop++)
        {
            Uri current = uri;
            using HttpResponseMessage response = await _transport.SendAsync(
                () => _transport.CreateRequest(HttpMethod.Head, current),
                $"Reading the metadata of '{path}' in '{repoId}'",
                cancellationToken,
                singleAttempt).ConfigureAwait(false);
            if (response.RequestMessage?.RequestUri is { } answered && answered != current)
            {
                throw new HubException(
                    $"The HttpClient followed a redirect by itself ({current.GetLeftPart(UriPartial.Path)} → {answered.GetLeftPart(UriPartial.Path)}), which hides the Hub's metadata. Give HubClient an HttpClient whose handler has AllowAutoRedirect = false (AddLuminaHub does this).");
            }

            int status = (int)response.StatusCode;
            Uri? location = response.Headers.Location;
            if (status is >= 300 and < 400 && location is not null && !location.IsAbsoluteUri && hop < MaxRelativeRedirects)
            {
                // A renamed repository answers with a redirect on the same host: follow it.
                uri = new Uri(current, location);
                continue;
            }

            if (status is >= 400 || (status is >= 300 and < 400 && location is null))
            {
                throw _transport.ToException(response, repoId, revision, path);
            }

            string? commit = HubTransport.Header(response, "X-Repo-Commit");
            string? etag = HubTransport.Header(response, "X-Linked-Etag") ?? HubTransport.Header(response, "ETag");
            string? sizeText = HubTransport.Header(response, "X-Linked-Size");
            long? size = sizeText is not null && long.TryParse(sizeText, out long linked) ? linked : response.Content.Headers.ContentLength;
            if (commit is null || etag is null)
            {
                throw new HubException(
                    $"{current.GetLeftPart(UriPartial.Path)} answered without {(commit is null ? "X-Repo-Commit" : "an ETag")}, so the file cannot be cached. Check that the endpoint {Settings.Endpoint} (HF_ENDPOINT) is a Hugging Face Hub or a faithful mirror.");
            }

            etag = NormalizeEtag(etag);
            commit = commit.Trim();
            if (!HubCache.IsCommitHash(commit))
            {
                throw new HubException($"The Hub returned X-Repo-Commit '{commit}', which is not a 40-hex commit hash.");
            }

            HubPaths.ValidateEtag(etag);
            Uri download = location is not null && status is >= 300 and < 400 ? location : current;
            return new HubFileMetadata(commit, etag, size, download);
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRelativeRedirectsAsync(HttpMethod method, Uri uri, string what, bool singleAttempt, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            Uri current = uri;
            HttpResponseMessage response = await _transport.SendAsync(() => _transport.CreateRequest(method, current), what, cancellationToken, singleAttempt).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { IsAbsoluteUri: false } location && hop < MaxRelativeRedirects)
            {
                response.Dispose();
                uri = new Uri(current, location);
                continue;
            }

            return response;
        }
    }

    private void ThrowIfOffline(string what)
    {
        if (Settings.Offline)
        {
            throw new HubOfflineException($"Offline mode is on (HubOptions.Offline or HF_HUB_OFFLINE), so {what} is not possible; it needs the Hub. Turn offline mode off.");
        }
    }

    private static string NormalizeEtag(string etag)
    {
        etag = etag.Trim();
        if (etag.StartsWith("W/", StringComparison.Ordinal))
        {
            etag = etag[2..];
        }

        return etag.Trim('"');
    }

    private static RepoInfo ParseRepoInfo(string repoId, string revision, string json)
    {
        try
        {
            JsonNode root = JsonNode.Parse(json) ?? throw new JsonException("empty document");
            string sha = root["sha"]?.GetValue<string>() ?? throw new JsonException("no 'sha'");
            if (!HubCache.IsCommitHash(sha))
            {
                throw new JsonException($"'sha' is '{sha}', not a 40-hex commit");
            }

            var siblings = new List<RepoSibling>();
            foreach (JsonNode? node in root["siblings"]?.AsArray() ?? [])
            {
                string name = node?["rfilename"]?.GetValue<string>() ?? throw new JsonException("a sibling has no 'rfilename'");
                HubPaths.ValidateFilePath(name);
                long? size = node["size"] is JsonValue s && s.TryGetValue(out long sz) ? sz : null;
                LfsInfo? lfs = null;
                if (node["lfs"] is JsonObject l && l["sha256"]?.GetValue<string>() is { } lfsSha)
                {
                    lfs = new LfsInfo(lfsSha, l["size"] is JsonValue ls && ls.TryGetValue(out long lsz) ? lsz : size ?? 0);
                }

                siblings.Add(new RepoSibling(name, size ?? lfs?.Size, lfs));
            }

            return new RepoInfo(repoId, sha, siblings);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new HubException($"The Hub's listing of '{repoId}' at revision '{revision}' could not be read: {e.Message}.", e);
        }
    }
}
