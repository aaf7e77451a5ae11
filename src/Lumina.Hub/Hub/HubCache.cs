using System.Text.RegularExpressions;

namespace Lumina.Hub;

/// <summary>
/// The huggingface_hub cache layout, shared with Python:
/// <c>models--org--name/blobs/&lt;etag&gt;</c> holds each file's bytes once,
/// <c>models--org--name/refs/&lt;revision&gt;</c> holds the commit a branch or tag pointed to, and
/// <c>models--org--name/snapshots/&lt;commit&gt;/&lt;path&gt;</c> is a relative symlink to the blob.
/// Download locks live in <c>.locks/models--org--name/&lt;etag&gt;.lock</c>.
/// </summary>
public sealed partial class HubCache
{
    /// <summary>Creates a view of the cache rooted at <paramref name="cacheDirectory"/> (the folder huggingface_hub calls HF_HUB_CACHE).</summary>
    public HubCache(string cacheDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheDirectory);
        CacheDirectory = Path.GetFullPath(cacheDirectory);
    }

    /// <summary>The cache root.</summary>
    public string CacheDirectory { get; }

    /// <summary>The folder name of a model repository: <c>models--org--name</c>.</summary>
    public static string RepoFolderName(string repoId)
    {
        HubPaths.ValidateRepoId(repoId);
        return "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);
    }

    /// <summary>True when <paramref name="revision"/> is a full 40-hex commit hash.</summary>
    public static bool IsCommitHash(string revision) => CommitHashRegex().IsMatch(revision);

    /// <summary>The repository's folder in the cache.</summary>
    public string RepoFolder(string repoId) => Path.Combine(CacheDirectory, RepoFolderName(repoId));

    /// <summary>Where a blob is stored.</summary>
    public string BlobPath(string repoId, string etag)
    {
        HubPaths.ValidateEtag(etag);
        return Path.Combine(RepoFolder(repoId), "blobs", etag);
    }

    /// <summary>The snapshot folder of a commit.</summary>
    public string SnapshotFolder(string repoId, string commitHash)
    {
        HubPaths.ValidateCommit(commitHash);
        return Path.Combine(RepoFolder(repoId), "snapshots", commitHash);
    }

    /// <summary>The snapshot entry (symlink) of a file at a commit.</summary>
    public string PointerPath(string repoId, string commitHash, string path) =>
        Path.Combine(SnapshotFolder(repoId, commitHash), HubPaths.ToLocal(path));

    /// <summary>The lock file guarding the download of a blob (compatible with huggingface_hub's <c>filelock</c>).</summary>
    public string LockPath(string repoId, string etag)
    {
        HubPaths.ValidateEtag(etag);
        return Path.Combine(CacheDirectory, ".locks", RepoFolderName(repoId), etag + ".lock");
    }

    /// <summary>The file that records which commit <paramref name="revision"/> pointed to.</summary>
    public string RefPath(string repoId, string revision)
    {
        HubPaths.ValidateRevision(revision);
        return Path.Combine(RepoFolder(repoId), "refs", HubPaths.ToLocal(revision));
    }

    /// <summary>
    /// The commit that <paramref name="revision"/> resolves to from the cache alone: the content of
    /// <c>refs/&lt;revision&gt;</c>, or the revision itself when it is a commit with a snapshot folder. Null when unknown.
    /// </summary>
    public string? ResolveCommit(string repoId, string revision = "main")
    {
        string refPath = RefPath(repoId, revision);
        if (File.Exists(refPath))
        {
            string commit = File.ReadAllText(refPath).Trim();
            if (IsCommitHash(commit))
            {
                return commit;
            }
        }

        if (IsCommitHash(revision) && Directory.Exists(SnapshotFolder(repoId, revision)))
        {
            return revision;
        }

        return null;
    }

    /// <summary>The cached copy of a file at a revision, or null when the cache does not have it.</summary>
    public string? TryGetFile(string repoId, string path, string revision = "main")
    {
        HubPaths.ValidateFilePath(path);
        string? commit = ResolveCommit(repoId, revision);
        if (commit is null)
        {
            return null;
        }

        string pointer = PointerPath(repoId, commit, path);
        return File.Exists(pointer) ? pointer : null;
    }

    /// <summary>The cached snapshot folder of a revision, or null when the cache does not have it.</summary>
    public string? TryGetSnapshotFolder(string repoId, string revision = "main")
    {
        string? commit = ResolveCommit(repoId, revision);
        if (commit is null)
        {
            return null;
        }

        string folder = SnapshotFolder(repoId, commit);
        return Directory.Exists(folder) ? folder : null;
    }

    /// <summary>Every file of a cached snapshot, as repository paths with '/' separators, sorted.</summary>
    public static IReadOnlyList<string> ListSnapshotFiles(string snapshotFolder)
    {
        var files = new List<string>();
        foreach (string file in Directory.EnumerateFiles(snapshotFolder, "*", SearchOption.AllDirectories))
        {
            if (File.Exists(file))
            {
                files.Add(Path.GetRelativePath(snapshotFolder, file).Replace(Path.DirectorySeparatorChar, '/'));
            }
        }

        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Records that <paramref name="revision"/> points to <paramref name="commitHash"/> (atomically).</summary>
    internal void WriteRef(string repoId, string revision, string commitHash)
    {
        if (revision == commitHash)
        {
            return;
        }

        string refPath = RefPath(repoId, revision);
        if (File.Exists(refPath) && File.ReadAllText(refPath).Trim() == commitHash)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        string temp = Path.Combine(RepoFolder(repoId), "refs", $".{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, commitHash);
        File.Move(temp, refPath, overwrite: true);
    }

    /// <summary>
    /// Publishes a snapshot entry for a complete blob: a relative symlink (as huggingface_hub makes), or a copy where
    /// symlinks are not allowed. The entry is made beside the blob and renamed into place, so no partial entry is
    /// ever visible under <c>snapshots/</c>.
    /// </summary>
    internal static void LinkPointer(string blobPath, string pointerPath)
    {
        string pointerDir = Path.GetDirectoryName(pointerPath)!;
        Directory.CreateDirectory(pointerDir);
        string relativeTarget = Path.GetRelativePath(pointerDir, blobPath);
        string staging = $"{blobPath}.{Guid.NewGuid():N}.link";
        try
        {
            try
            {
                File.CreateSymbolicLink(staging, relativeTarget);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                File.Copy(blobPath, staging, overwrite: true);
            }

            File.Move(staging, pointerPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(staging) || new FileInfo(staging).LinkTarget is not null)
            {
                File.Delete(staging);
            }
        }
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHashRegex();
}
