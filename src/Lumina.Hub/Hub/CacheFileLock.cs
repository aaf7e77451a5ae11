using Microsoft.Extensions.Logging;

namespace Lumina.Hub;

/// <summary>
/// A cross-process lock on a file. On Unix .NET opens with <see cref="FileShare.None"/> through <c>flock</c>, the same
/// call Python's <c>filelock</c> makes, so Lumina.NET and huggingface_hub exclude each other; on Windows the sharing
/// mode itself excludes other openers. The lock file is left in place (deleting it would race with new waiters).
/// </summary>
internal sealed class CacheFileLock : IDisposable
{
    private readonly FileStream _stream;

    private CacheFileLock(FileStream stream) => _stream = stream;

    public static async Task<CacheFileLock> AcquireAsync(string path, TimeSpan? timeout, ILogger logger, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DateTime start = DateTime.UtcNow;
        DateTime nextLog = start + TimeSpan.FromSeconds(10);
        int delayMs = 20;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                return new CacheFileLock(stream);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                DateTime now = DateTime.UtcNow;
                if (timeout is { } t && now - start > t)
                {
                    throw new HubException(
                        $"Another process has held the download lock '{path}' for more than {t.TotalSeconds:0.#} s. If no download is running, delete that file; otherwise raise HubOptions.LockTimeout.");
                }

                if (now >= nextLog)
                {
                    logger.LogInformation("Waiting for another process to finish downloading (lock {LockPath}).", path);
                    nextLog = now + TimeSpan.FromSeconds(10);
                }

                await Task.Delay(delayMs, cancellationToken).ConfigureAwait(false);
                delayMs = Math.Min(delayMs * 2, 250);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
