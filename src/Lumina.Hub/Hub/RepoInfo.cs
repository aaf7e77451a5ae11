namespace Lumina.Hub;

/// <summary>A repository at one commit, as listed by <c>/api/models/{repo}/revision/{rev}</c>.</summary>
/// <param name="RepoId">The repository id, for example <c>Alpha-VLLM/Lumina-Next-SFT-diffusers</c>.</param>
/// <param name="CommitHash">The 40-hex commit the revision resolved to.</param>
/// <param name="Siblings">Every file of the repository at that commit.</param>
internal sealed record RepoInfo(string RepoId, string CommitHash, IReadOnlyList<RepoSibling> Siblings);

/// <summary>One file of a repository.</summary>
/// <param name="Path">The path inside the repository, with '/' separators (the Hub's <c>rfilename</c>).</param>
/// <param name="Size">The file size when the Hub listed it.</param>
/// <param name="Lfs">LFS details for large files; null for files stored in git.</param>
internal sealed record RepoSibling(string Path, long? Size, LfsInfo? Lfs);

/// <summary>LFS details of a large file.</summary>
/// <param name="Sha256">The sha256 of the content (also the file's etag and blob name in the cache).</param>
/// <param name="Size">The content size in bytes.</param>
internal sealed record LfsInfo(string Sha256, long Size);

/// <summary>What a HEAD on <c>{endpoint}/{repo}/resolve/{rev}/{path}</c> told about a file.</summary>
/// <param name="CommitHash">The commit the revision resolved to (<c>X-Repo-Commit</c>).</param>
/// <param name="Etag">The blob name: the LFS sha256 (<c>X-Linked-Etag</c>) or the git blob id (<c>ETag</c>), unquoted.</param>
/// <param name="Size">The file size (<c>X-Linked-Size</c> or <c>Content-Length</c>), when given.</param>
/// <param name="DownloadUri">Where the bytes are fetched from: the redirect target (for example a CDN) or the file URL.</param>
internal sealed record HubFileMetadata(string CommitHash, string Etag, long? Size, Uri DownloadUri)
{
    /// <summary>True when the etag is a sha256 (an LFS file), which makes the content verifiable.</summary>
    public bool IsSha256Etag => Etag.Length == 64 && Etag.All(char.IsAsciiHexDigit);
}
