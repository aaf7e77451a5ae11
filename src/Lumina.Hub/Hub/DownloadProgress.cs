namespace Lumina.Hub;

/// <summary>Progress of one file download.</summary>
/// <param name="File">The file's path inside the repository.</param>
/// <param name="BytesDownloaded">Bytes of the file now on disk, including bytes resumed from an earlier attempt.</param>
/// <param name="TotalBytes">The file size when the server announced it.</param>
public sealed record DownloadProgress(string File, long BytesDownloaded, long? TotalBytes);
