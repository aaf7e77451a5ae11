using System.Runtime.InteropServices;

namespace Lumina.IO;

/// <summary>What a path names in the file system, as <c>stat</c> reports it.</summary>
public enum FileKind
{
    /// <summary>Nothing exists at the path (or a symbolic link points at nothing).</summary>
    Missing,

    /// <summary>A regular file.</summary>
    RegularFile,

    /// <summary>A folder.</summary>
    Directory,

    /// <summary>A symbolic link (only from <see cref="FileKinds.Of(string, bool)"/> without following links).</summary>
    SymbolicLink,

    /// <summary>A named pipe (FIFO): opening it blocks until the other end is opened.</summary>
    Fifo,

    /// <summary>A character device such as <c>/dev/null</c> or a terminal.</summary>
    CharacterDevice,

    /// <summary>A block device such as a disk.</summary>
    BlockDevice,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>Something else.</summary>
    Other,
}

/// <summary>
/// Tells regular files from folders, links, pipes and devices without opening them (opening a FIFO blocks). Readers
/// and writers in Lumina use it so that a device node or pipe given as a checkpoint or an output path is refused
/// with a clear message instead of blocking or being replaced.
/// </summary>
public static class FileKinds
{
    private const int TypeMask = 0xF000;

    /// <summary>What <paramref name="path"/> names.</summary>
    /// <param name="path">The path to look at.</param>
    /// <param name="followLinks">Follow symbolic links to what they point at (true), or report the link itself.</param>
    public static FileKind Of(string path, bool followLinks = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsWindows() && StatKind(path, followLinks) is { } kind)
            return kind;

        // Windows (and any runtime without the Unix PAL): the attributes tell folders, links and devices apart.
        var info = new FileInfo(path);
        if (!followLinks && (info.Exists || Directory.Exists(path)) && info.LinkTarget is not null)
            return FileKind.SymbolicLink;
        if (Directory.Exists(path))
            return FileKind.Directory;
        if (!File.Exists(path))
            return FileKind.Missing;
        return (info.Attributes & FileAttributes.Device) != 0 ? FileKind.CharacterDevice : FileKind.RegularFile;
    }

    /// <summary>Throws unless <paramref name="path"/> (links followed) is an existing regular file.</summary>
    /// <param name="path">The file to check.</param>
    /// <param name="what">What the file is for, for the message (for example "checkpoint").</param>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="IOException">The path is a folder, pipe, device or socket.</exception>
    public static void RequireRegularFile(string path, string what = "file")
    {
        var kind = Of(path);
        if (kind == FileKind.Missing)
            throw new FileNotFoundException($"The {what} '{path}' does not exist.", path);
        if (kind != FileKind.RegularFile)
            throw new IOException($"The {what} '{path}' is {Describe(kind)}, not a regular file.");
    }

    /// <summary>"a folder", "a named pipe (FIFO)", … for messages.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.RegularFile => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Fifo => "a named pipe (FIFO)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "not a file or folder",
    };

    private static FileKind? StatKind(string path, bool followLinks)
    {
        // The runtime's own portable stat (System.Native ships with every .NET on Unix): its FileStatus struct has the
        // same layout on every platform, with Mode (S_IF* type bits included) as the second int32.
        var status = new byte[256];
        int rc;
        try
        {
            rc = followLinks ? Stat(path, status) : LStat(path, status);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }

        if (rc != 0)
            return FileKind.Missing;
        return (BitConverter.ToInt32(status, 4) & TypeMask) switch
        {
            0x8000 => FileKind.RegularFile,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] output);

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat", CharSet = CharSet.Ansi)]
    private static extern int LStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] output);
}
