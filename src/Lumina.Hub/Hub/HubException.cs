namespace Lumina.Hub;

/// <summary>Base class of every error raised by <see cref="HubClient"/>.</summary>
public class HubException : Exception
{
    /// <summary>Creates the error with a message that says what went wrong and what to do.</summary>
    public HubException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the error with a message and the underlying cause.</summary>
    public HubException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>HTTP 401/403: the repo is gated or private and the token (if any) has no access.</summary>
public sealed class HubAccessDeniedException : HubException
{
    /// <summary>Creates the error.</summary>
    public HubAccessDeniedException(string message, int statusCode)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status (401 or 403).</summary>
    public int StatusCode { get; }
}

/// <summary>What a <see cref="HubNotFoundException"/> could not find.</summary>
internal enum HubMissingKind
{
    /// <summary>The server did not say which part was missing.</summary>
    Unknown,

    /// <summary>The repository does not exist (or is private and no valid token was sent).</summary>
    Repository,

    /// <summary>The repository exists but the revision (branch, tag or commit) does not.</summary>
    Revision,

    /// <summary>The repository and revision exist but the file does not.</summary>
    File,
}

/// <summary>HTTP 404: the repository, revision or file does not exist. The message names all three.</summary>
public sealed class HubNotFoundException : HubException
{
    /// <summary>Creates the error.</summary>
    internal HubNotFoundException(string message, HubMissingKind kind, string repoId, string revision, string? path)
        : base(message)
    {
        Kind = kind;
        RepoId = repoId;
        Revision = revision;
        FilePath = path;
    }

    /// <summary>Which part is missing.</summary>
    internal HubMissingKind Kind { get; }

    /// <summary>The repository id asked for.</summary>
    public string RepoId { get; }

    /// <summary>The revision asked for.</summary>
    public string Revision { get; }

    /// <summary>The file asked for, or null for a repository-level request.</summary>
    public string? FilePath { get; }
}

/// <summary>Offline (by option, <c>HF_HUB_OFFLINE</c> or an unreachable Hub) and the cache has no copy.</summary>
public sealed class HubOfflineException : HubException
{
    /// <summary>Creates the error.</summary>
    public HubOfflineException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A downloaded file did not match its expected sha256 or size; nothing was published to the cache.</summary>
public sealed class HubIntegrityException : HubException
{
    /// <summary>Creates the error.</summary>
    public HubIntegrityException(string message)
        : base(message)
    {
    }
}

/// <summary>An HTTP error that is not a 401/403/404, raised after the bounded retries were used up.</summary>
public sealed class HubHttpException : HubException
{
    /// <summary>Creates the error.</summary>
    public HubHttpException(string message, int? statusCode, int attempts, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Attempts = attempts;
    }

    /// <summary>The last HTTP status, or null when the last attempt failed at the network level.</summary>
    public int? StatusCode { get; }

    /// <summary>How many requests were made.</summary>
    public int Attempts { get; }
}

/// <summary>The repository has no layout that Lumina.NET can load (neither diffusers nor original Lumina).</summary>
public sealed class HubLayoutException : HubException
{
    /// <summary>Creates the error.</summary>
    public HubLayoutException(string message)
        : base(message)
    {
    }
}
