using Lumina.Media;

namespace Lumina.Cli;

/// <summary>
/// Checks output paths before any work starts (a bad path fails at once, not after minutes of generation) and
/// handles <c>-o -</c> (standard output).
/// </summary>
internal static class OutputFiles
{
    /// <summary>The <c>--output</c> value that means standard output.</summary>
    public const string StandardOutput = "-";

    /// <summary>
    /// Checks <paramref name="paths"/>: each must be absent or a regular file (links followed; pipes, devices and folders
    /// are refused) in a folder that exists or can be created and is writable, with an extension
    /// <paramref name="extensionOk"/> accepts.
    /// </summary>
    /// <exception cref="UsageException">An extension is wrong.</exception>
    /// <exception cref="IOException">A path cannot be written.</exception>
    public static void Check(IEnumerable<string> paths, Func<string, bool> extensionOk, string formats)
    {
        foreach (var path in paths)
        {
            if (!extensionOk(path))
                throw new UsageException($"--output '{path}': '{Path.GetExtension(path)}' is not a format this command writes; use {formats}.");
            AtomicFile.CheckWritable(path, createFolders: true);
        }
    }

    /// <summary>Creates <paramref name="path"/>'s folder if missing.</summary>
    public static void CreateFolder(string path) => Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);

    /// <summary>Throws unless standard output can take binary data: one file only, and not a terminal.</summary>
    public static void CheckStandardOutput(int count)
    {
        if (count != 1)
            throw new UsageException($"--output - writes one file to stdout; --count is {count}. Give a file name instead.");
        if (!Console.IsOutputRedirected)
            throw new UsageException("--output - would write binary data to the terminal; redirect it (> out.png) or pipe it.");
    }

    /// <summary>Writes <paramref name="bytes"/> to standard output.</summary>
    public static async Task WriteStandardOutputAsync(Func<Stream, CancellationToken, Task> write, CancellationToken ct)
    {
        await using var stdout = Console.OpenStandardOutput();
        await write(stdout, ct).ConfigureAwait(false);
        await stdout.FlushAsync(ct).ConfigureAwait(false);
    }
}
