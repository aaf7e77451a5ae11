using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Lumina.Hub;

/// <summary>
/// Downloads one blob into <c>&lt;blob&gt;.incomplete</c>, resuming with <c>Range</c> after dropped connections, then
/// checks size and sha256 and renames it to the blob. A mismatch deletes the partial file and raises; a cancellation
/// or an exhausted retry budget leaves the partial file for the next call to resume.
/// </summary>
internal sealed class BlobDownloader
{
    private const int BufferSize = 1 << 20;
    private const int MaxRedirects = 10;
    private readonly HubTransport _transport;
    private readonly ILogger _logger;

    public BlobDownloader(HubTransport transport, ILogger logger)
    {
        _transport = transport;
        _logger = logger;
    }

    public async Task DownloadAsync(HubFileMetadata metadata, string blobPath, string file, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        HubOptions options = _transport.Options;
        string incompletePath = blobPath + ".incomplete";
        Directory.CreateDirectory(Path.GetDirectoryName(blobPath)!);
        string? expectedSha = options.VerifySha256 && metadata.IsSha256Etag ? metadata.Etag.ToLowerInvariant() : null;
        long? expectedSize = metadata.Size;

        using var hash = expectedSha is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var stream = new FileStream(incompletePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.Asynchronous);
        long have;
        try
        {
            have = stream.Length;
            if (expectedSize is { } limit && have > limit)
            {
                stream.SetLength(0);
                have = 0;
            }

            if (have > 0)
            {
                _logger.LogInformation("Resuming {File} from byte {Offset}.", file, have);
                if (hash is not null)
                {
                    await HashPrefixAsync(stream, hash, have, cancellationToken).ConfigureAwait(false);
                }
            }

            stream.Position = have;
            progress?.Report(new DownloadProgress(file, have, expectedSize));
            int failuresWithoutProgress = 0;
            while (expectedSize is null || have < expectedSize)
            {
                long before = have;
                try
                {
                    bool finished = await ReceiveAsync(metadata.DownloadUri, stream, hash, file, expectedSize, progress, cancellationToken, () => have, v => have = v).ConfigureAwait(false);
                    if (finished)
                    {
                        break;
                    }
                }
                catch (Exception e) when (IsDroppedConnection(e, cancellationToken))
                {
                    await stream.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                    failuresWithoutProgress = have > before ? 1 : failuresWithoutProgress + 1;
                    if (failuresWithoutProgress > options.MaxRetries)
                    {
                        throw new HubHttpException(
                            $"Downloading '{file}' failed {failuresWithoutProgress} time(s) in a row without receiving data ({e.Message}). {have} bytes are kept in '{incompletePath}'; calling again resumes from there.",
                            null,
                            failuresWithoutProgress,
                            e);
                    }

                    TimeSpan delay = _transport.Backoff(failuresWithoutProgress);
                    _logger.LogWarning("Connection lost while downloading {File} at byte {Offset} ({Error}); resuming in {Delay} ms.", file, have, e.Message, (long)delay.TotalMilliseconds);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }

            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }

        if (expectedSize is { } size && have != size)
        {
            File.Delete(incompletePath);
            throw new HubIntegrityException($"'{file}' should be {size} bytes but {have} were received; the partial file was deleted. Try again.");
        }

        if (hash is not null)
        {
            string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != expectedSha)
            {
                File.Delete(incompletePath);
                throw new HubIntegrityException(
                    $"'{file}' failed verification: its sha256 is {actual} but the Hub's etag says {expectedSha}. The download was deleted and nothing was added to the cache. Try again; if it persists the mirror or proxy at {metadata.DownloadUri.GetLeftPart(UriPartial.Authority)} serves wrong content.");
            }
        }

        File.Move(incompletePath, blobPath, overwrite: true);
    }

    /// <summary>One GET (following redirects); returns true when the server signalled the end of an unsized body.</summary>
    private async Task<bool> ReceiveAsync(
        Uri uri,
        FileStream stream,
        IncrementalHash? hash,
        string file,
        long? expectedSize,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken,
        Func<long> getHave,
        Action<long> setHave)
    {
        HubOptions options = _transport.Options;
        long have = getHave();
        HttpResponseMessage response = await GetFollowingRedirectsAsync(uri, have, file, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                if (expectedSize is { } s && have == s)
                {
                    return true;
                }

                Restart(stream, hash, setHave);
                throw new IOException($"The server refused the range starting at byte {have}; starting over.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new HubHttpException($"Downloading '{file}' failed with HTTP {(int)response.StatusCode} {response.ReasonPhrase}.", (int)response.StatusCode, 1);
            }

            if (have > 0)
            {
                long? start = response.Content.Headers.ContentRange?.From;
                if (response.StatusCode != HttpStatusCode.PartialContent || start != have)
                {
                    _logger.LogInformation("The server ignored the resume range for {File}; downloading it from the start.", file);
                    Restart(stream, hash, setHave);
                    have = 0;
                }
            }

            await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            byte[] buffer = new byte[BufferSize];
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            long lastReport = have;
            while (true)
            {
                idle.CancelAfter(options.ReadIdleTimeout);
                int read = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (expectedSize is { } limit && have + read > limit)
                {
                    throw new HubIntegrityException($"The server sent more than the announced {limit} bytes for '{file}'.");
                }

                try
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    // A local write failure (disk full, ...) is not a dropped connection: retrying cannot help.
                    throw new HubException($"Writing '{file}' to '{stream.Name}' failed: {e.Message} Free space in the cache folder (or move it with HF_HUB_CACHE) and call again; the download resumes.", e);
                }

                hash?.AppendData(buffer, 0, read);
                have += read;
                setHave(have);
                if (have - lastReport >= BufferSize || have == expectedSize)
                {
                    progress?.Report(new DownloadProgress(file, have, expectedSize));
                    lastReport = have;
                }
            }

            progress?.Report(new DownloadProgress(file, have, expectedSize));
            if (expectedSize is { } total && have < total)
            {
                throw new IOException($"The connection closed after byte {have} of {total}.");
            }

            return true;
        }
    }

    private async Task<HttpResponseMessage> GetFollowingRedirectsAsync(Uri uri, long have, string file, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            Uri current = uri;
            HttpResponseMessage response = await _transport.SendAsync(
                () => _transport.CreateRequest(HttpMethod.Get, current, have > 0 ? have : null),
                $"Downloading '{file}'",
                cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } location && hop < MaxRedirects)
            {
                uri = location.IsAbsoluteUri ? location : new Uri(current, location);
                response.Dispose();
                continue;
            }

            return response;
        }
    }

    private static void Restart(FileStream stream, IncrementalHash? hash, Action<long> setHave)
    {
        stream.SetLength(0);
        stream.Position = 0;
        if (hash is not null)
        {
            hash.GetHashAndReset();
        }

        setHave(0);
    }

    private static async Task HashPrefixAsync(FileStream stream, IncrementalHash hash, long length, CancellationToken cancellationToken)
    {
        stream.Position = 0;
        byte[] buffer = new byte[BufferSize];
        long left = length;
        while (left > 0)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("The partial download shrank while it was being read.");
            }

            hash.AppendData(buffer, 0, read);
            left -= read;
        }
    }

    private static bool IsDroppedConnection(Exception e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && e is IOException or HttpRequestException or OperationCanceledException;
}
