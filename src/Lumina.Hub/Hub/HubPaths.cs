using System.Text.RegularExpressions;

namespace Lumina.Hub;

/// <summary>Validation and conversion of repository ids, revisions and file paths.</summary>
internal static partial class HubPaths
{
    public static void ValidateRepoId(string repoId)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        if (!RepoIdRegex().IsMatch(repoId) || repoId.Contains("--", StringComparison.Ordinal) || repoId.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"'{repoId}' is not a Hub repository id. Use 'name' or 'org/name' with letters, digits, '-', '_' and '.', for example 'Alpha-VLLM/Lumina-Next-SFT-diffusers'.",
                nameof(repoId));
        }
    }

    public static void ValidateRevision(string revision)
    {
        ArgumentNullException.ThrowIfNull(revision);
        if (revision.Length == 0 || revision.StartsWith('/') || revision.Contains('\\') || revision.Split('/').Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException($"'{revision}' is not a revision: use a branch, tag or commit hash such as 'main'.", nameof(revision));
        }
    }

    public static void ValidateFilePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path.StartsWith('/') || path.Contains('\\') || path.Contains('\0') || path.Split('/').Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException(
                $"'{path}' is not a file path inside a repository: use '/' separators, no leading '/', no '.' or '..' parts (for example 'transformer/config.json').",
                nameof(path));
        }
    }

    public static void ValidateCommit(string commit)
    {
        if (!HubCache.IsCommitHash(commit))
        {
            throw new ArgumentException($"'{commit}' is not a 40-hex commit hash.", nameof(commit));
        }
    }

    public static void ValidateEtag(string etag)
    {
        if (!EtagRegex().IsMatch(etag))
        {
            throw new HubException($"The Hub returned the etag '{etag}', which cannot name a cache blob (expected letters, digits, - or _).");
        }
    }

    /// <summary>Repository path ('/' separators) to a local relative path.</summary>
    public static string ToLocal(string path) => path.Replace('/', Path.DirectorySeparatorChar);

    /// <summary>Escapes each path segment for a URL, keeping the '/' separators.</summary>
    public static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    [GeneratedRegex(@"^([\w\-.]+/)?[\w\-.]{1,96}$")]
    private static partial Regex RepoIdRegex();

    [GeneratedRegex("^[0-9A-Za-z_-]{8,128}$")]
    private static partial Regex EtagRegex();
}
