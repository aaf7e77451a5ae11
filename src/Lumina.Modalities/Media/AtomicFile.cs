using Lumina.IO;

namespace Lumina.Media;

/// <summary>
/// Writes a file all-or-nothing: the content goes to a hidden temporary file in the same folder, which replaces the
/// target only once it is complete and flushed. If writing fails (a full disk, a cancelled token, an encoder error)
/// the temporary file is deleted, the exception propagates unchanged, and the target keeps its previous content (or
/// stays absent).
/// </summary>
/// <remarks>
/// Only regular files are ever replaced. A symbolic link is followed to the regular file it points at, which is
/// replaced while the link stays as it is; a link to nothing, a folder, a named pipe (FIFO), a device node or a socket
/// is refused with an <see cref="IOException"/> before anything is written. To write to a pipe or to standard output,
/// write to a <see cref="Stream"/> instead.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, atomically; see the class summary.</summary>
    /// <param name="path">The file to create or replace (or a symbolic link to it); its folder must exist.</param>
    /// <param name="write">Writes the whole content to the stream it is given (do not dispose it).</param>
    /// <param name="cancellationToken">Passed to <paramref name="write"/> and checked before the file is replaced.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IOException">The path is not a regular file (or a link to one) and not absent.</exception>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = ResolveTarget(path);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write '{full}': the folder '{folder}' does not exist.");
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            // Checked again right before the rename: something may have appeared at the path while writing.
            ResolveTarget(full);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (IOException) { } // best effort: the original exception matters more
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Checks, without writing anything, that <see cref="WriteAsync"/> could write <paramref name="path"/>: it is absent
    /// or a regular file (links followed), and its folder, or the nearest folder above it that exists when
    /// <paramref name="createFolders"/> is true, is a folder this process can create files in. Call it before long
    /// work so that a bad output path fails at once.
    /// </summary>
    /// <param name="path">The file that will be written.</param>
    /// <param name="createFolders">Whether missing folders will be created before writing.</param>
    /// <returns>The full path of the regular file that will be written (a link's final target).</returns>
    /// <exception cref="IOException">The path is unusable; the message says why.</exception>
    public static string CheckWritable(string path, bool createFolders = false)
    {
        var full = ResolveTarget(path);
        var folder = Path.GetDirectoryName(full)!;
        var existing = folder;
        while (!Directory.Exists(existing))
        {
            if (FileKinds.Of(existing) != FileKind.Missing)
                throw new IOException($"Cannot write '{full}': '{existing}' is {FileKinds.Describe(FileKinds.Of(existing))}, not a folder.");
            if (!createFolders)
                throw new DirectoryNotFoundException($"Cannot write '{full}': the folder '{folder}' does not exist.");
            existing = Path.GetDirectoryName(existing) ?? throw new DirectoryNotFoundException($"Cannot write '{full}': no folder of it exists.");
        }

        var probe = Path.Combine(existing, $".lumina-write-check.{Guid.NewGuid():N}.tmp");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"Cannot write '{full}': the folder '{existing}' is not writable ({e.Message})", e);
        }

        return full;
    }

    /// <summary>The regular file a write to <paramref name="path"/> replaces (links followed), or refuses.</summary>
    private static string ResolveTarget(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (Path.EndsInDirectorySeparator(path) || Path.GetFileName(full).Length == 0)
            throw new IOException($"Cannot write '{path}': it names a folder; give a file name.");
        var kind = FileKinds.Of(full, followLinks: false);
        if (kind == FileKind.SymbolicLink)
        {
            var final = File.ResolveLinkTarget(full, returnFinalTarget: true);
            if (final is null || FileKinds.Of(final.FullName, followLinks: false) == FileKind.Missing)
                throw new IOException($"Cannot write '{full}': it is a symbolic link to '{final?.FullName ?? "?"}', which does not exist.");
            full = final.FullName;
            kind = FileKinds.Of(full, followLinks: false);
        }

        if (kind is not (FileKind.Missing or FileKind.RegularFile))
            throw new IOException($"Cannot write '{full}': it is {FileKinds.Describe(kind)}, and only regular files are replaced. " +
                                  "To write to a pipe or a terminal, write to a stream (lumina: -o -).");
        return full;
    }
}
