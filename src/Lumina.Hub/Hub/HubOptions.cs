namespace Lumina.Hub;

/// <summary>
/// Settings of <see cref="HubClient"/>. Every nullable setting left unset falls back to the environment variable that
/// huggingface_hub reads (HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN / the token file, HF_HUB_OFFLINE), then to
/// huggingface_hub's default. A value set here always wins over the environment.
/// </summary>
public sealed class HubOptions
{
    /// <summary>The Hub address, for example <c>https://huggingface.co</c> or a mirror. Overrides <c>HF_ENDPOINT</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The Hugging Face home folder (token file, default cache parent). Overrides <c>HF_HOME</c>.</summary>
    public string? HomeDirectory { get; set; }

    /// <summary>
    /// The hub cache folder that holds <c>models--org--name</c> trees. Overrides <c>HF_HUB_CACHE</c>; the default is
    /// <c>&lt;home&gt;/hub</c>, the folder Python's huggingface_hub uses, so both share one cache.
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>
    /// The access token. Overrides <c>HF_TOKEN</c> and the token file. Set it to an empty string to send no token
    /// even when the environment has one. The token is sent only to <see cref="Endpoint"/> and is never logged.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>Path of the token file. Overrides <c>HF_TOKEN_PATH</c>; the default is <c>&lt;home&gt;/token</c>.</summary>
    public string? TokenPath { get; set; }

    /// <summary>When true, no network request is made and only the cache is used. Overrides <c>HF_HUB_OFFLINE</c>.</summary>
    public bool? Offline { get; set; }

    /// <summary>How many files a snapshot downloads at once. Default 4.</summary>
    public int MaxParallelDownloads { get; set; } = 4;

    /// <summary>
    /// How many times a request is retried after HTTP 5xx, 429 or a network error, and how many times in a row a
    /// body download may fail without receiving a byte before giving up. Default 5.
    /// </summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First retry delay; each later retry doubles it up to <see cref="MaxRetryDelay"/>. Default 1 s.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest computed backoff between retries. Default 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest <c>Retry-After</c> that is honoured by waiting. A server asking for a longer wait makes the call fail
    /// with a <see cref="HubHttpException"/> that says how long to wait. Default 5 minutes.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time a HEAD or API request may take, including its retries' individual attempts. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Time a body download may go without receiving any byte before the connection is treated as dropped and
    /// resumed. Default 60 s.
    /// </summary>
    public TimeSpan ReadIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long to wait for another process that holds the download lock of the same blob. Null waits as long as the
    /// other process keeps it (the default, like huggingface_hub).
    /// </summary>
    public TimeSpan? LockTimeout { get; set; }

    /// <summary>Verify the sha256 of LFS files against their etag before publishing them. Default true.</summary>
    public bool VerifySha256 { get; set; } = true;

    /// <summary>The User-Agent sent with every request.</summary>
    public string UserAgent { get; set; } = "Lumina.NET-Hub/0.1";

    /// <summary>Checks the settings and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (MaxParallelDownloads < 1)
        {
            throw new ArgumentException($"HubOptions.MaxParallelDownloads must be at least 1 (was {MaxParallelDownloads}).");
        }

        if (MaxRetries < 0)
        {
            throw new ArgumentException($"HubOptions.MaxRetries must be zero or more (was {MaxRetries}).");
        }

        if (InitialRetryDelay < TimeSpan.Zero || MaxRetryDelay < TimeSpan.Zero || MaxRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentException("HubOptions retry delays must not be negative.");
        }

        if (RequestTimeout <= TimeSpan.Zero || ReadIdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("HubOptions.RequestTimeout and ReadIdleTimeout must be positive.");
        }

        if (LockTimeout is { } lockTimeout && lockTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException("HubOptions.LockTimeout must not be negative.");
        }

        if (Endpoint is { } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"HubOptions.Endpoint '{endpoint}' is not an absolute URL such as https://huggingface.co.");
        }

        if (string.IsNullOrWhiteSpace(UserAgent))
        {
            throw new ArgumentException("HubOptions.UserAgent must not be empty.");
        }
    }
}
