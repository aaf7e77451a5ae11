namespace Lumina.Hub;

/// <summary>What <see cref="HubClient.DownloadSnapshotAsync"/> fetches.</summary>
public sealed record SnapshotDownloadOptions
{
    /// <summary>Branch, tag or commit. Default <c>main</c>.</summary>
    public string Revision { get; init; } = "main";

    /// <summary>Only files matching one of these patterns (see <see cref="GlobPattern"/>); null or empty keeps all.</summary>
    public IReadOnlyList<string>? AllowPatterns { get; init; }

    /// <summary>Files matching one of these patterns are skipped.</summary>
    public IReadOnlyList<string>? IgnorePatterns { get; init; }

    /// <summary>How many files to download at once; null uses <see cref="HubOptions.MaxParallelDownloads"/>.</summary>
    public int? MaxParallelDownloads { get; init; }
}
