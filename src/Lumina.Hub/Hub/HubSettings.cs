namespace Lumina.Hub;

/// <summary>
/// The settings a <see cref="HubClient"/> actually uses: <see cref="HubOptions"/> merged with the environment the
/// way huggingface_hub reads it. The token is held but never printed (<see cref="ToString"/> redacts it).
/// </summary>
internal sealed class HubSettings
{
    /// <summary>The default Hub address.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    private static readonly HashSet<string> TrueValues = new(StringComparer.OrdinalIgnoreCase) { "1", "ON", "YES", "TRUE" };

    private HubSettings(Uri endpoint, string homeDirectory, string cacheDirectory, string tokenPath, string? token, bool offline)
    {
        Endpoint = endpoint;
        HomeDirectory = homeDirectory;
        CacheDirectory = cacheDirectory;
        TokenPath = tokenPath;
        Token = token;
        Offline = offline;
    }

    /// <summary>The Hub address, without a trailing slash.</summary>
    public Uri Endpoint { get; }

    /// <summary>The Hugging Face home folder.</summary>
    public string HomeDirectory { get; }

    /// <summary>The hub cache folder (the one holding <c>models--org--name</c>).</summary>
    public string CacheDirectory { get; }

    /// <summary>Where the token file is looked for.</summary>
    public string TokenPath { get; }

    /// <summary>Whether a token will be sent to <see cref="Endpoint"/>.</summary>
    public bool HasToken => Token is not null;

    /// <summary>Whether the client works from the cache only.</summary>
    public bool Offline { get; }

    internal string? Token { get; }

    /// <summary>
    /// Merges <paramref name="options"/> with environment variables. Precedence for each setting: the option, then
    /// the variable, then huggingface_hub's default.
    /// </summary>
    /// <param name="options">Explicit settings; unset ones fall back to the environment.</param>
    /// <param name="environment">Reads an environment variable; defaults to <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    public static HubSettings Resolve(HubOptions options, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        environment ??= Environment.GetEnvironmentVariable;
        string? Env(string name) => environment(name) is { Length: > 0 } v ? v : null;

        string userHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string home = ExpandPath(options.HomeDirectory
            ?? Env("HF_HOME")
            ?? Path.Combine(Env("XDG_CACHE_HOME") ?? Path.Combine(userHome, ".cache"), "huggingface"), userHome);
        string cache = ExpandPath(options.CacheDirectory
            ?? Env("HF_HUB_CACHE")
            ?? Env("HUGGINGFACE_HUB_CACHE")
            ?? Path.Combine(home, "hub"), userHome);

        string endpointText = (options.Endpoint ?? Env("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/');
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out Uri? endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The Hub endpoint '{endpointText}' (HubOptions.Endpoint or HF_ENDPOINT) is not an http(s) URL.");
        }

        string tokenPath = ExpandPath(options.TokenPath ?? Env("HF_TOKEN_PATH") ?? Path.Combine(home, "token"), userHome);
        string? token = options.Token ?? Env("HF_TOKEN") ?? Env("HUGGING_FACE_HUB_TOKEN") ?? ReadTokenFile(tokenPath);
        token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();

        bool offline = options.Offline ?? IsTrue(Env("HF_HUB_OFFLINE") ?? Env("TRANSFORMERS_OFFLINE"));
        return new HubSettings(endpoint, home, cache, tokenPath, token, offline);
    }

    /// <summary>Describes the settings with the token redacted.</summary>
    public override string ToString() =>
        $"Endpoint={Endpoint}, Cache={CacheDirectory}, Home={HomeDirectory}, Token={(HasToken ? "<set>" : "<none>")}, Offline={Offline}";

    private static bool IsTrue(string? value) => value is not null && TrueValues.Contains(value.Trim());

    private static string? ReadTokenFile(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string ExpandPath(string path, string userHome)
    {
        path = Environment.ExpandEnvironmentVariables(path);
        if (path == "~")
        {
            return userHome;
        }

        if (path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal))
        {
            path = Path.Combine(userHome, path[2..]);
        }

        return Path.GetFullPath(path);
    }
}
