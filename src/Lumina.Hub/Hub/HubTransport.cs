using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace Lumina.Hub;

/// <summary>
/// Sends Hub requests: adds the User-Agent, and the token only for the configured endpoint; retries 5xx, 429
/// (honouring <c>Retry-After</c>) and network failures with bounded exponential backoff; maps errors to clear
/// exceptions. Redirects are never followed automatically, so the callers decide what to follow and the token can
/// never leak to another host.
/// </summary>
internal sealed class HubTransport
{
    private readonly Func<HttpClient> _client;
    private readonly HubSettings _settings;
    private readonly HubOptions _options;
    private readonly ILogger _logger;

    public HubTransport(Func<HttpClient> client, HubSettings settings, HubOptions options, ILogger logger)
    {
        _client = client;
        _settings = settings;
        _options = options;
        _logger = logger;
    }

    public HubOptions Options => _options;

    /// <summary>True when <paramref name="uri"/> has the endpoint's scheme, host and port (the only place the token goes).</summary>
    public bool IsEndpoint(Uri uri) =>
        string.Equals(uri.Scheme, _settings.Endpoint.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IdnHost, _settings.Endpoint.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == _settings.Endpoint.Port;

    public HttpRequestMessage CreateRequest(HttpMethod method, Uri uri, long? rangeStart = null)
    {
        var request = new HttpRequestMessage(method, uri);
        request.Headers.UserAgent.ParseAdd(_options.UserAgent);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        if (rangeStart is { } start)
        {
            request.Headers.Range = new RangeHeaderValue(start, null);
        }

        if (_settings.Token is { } token && IsEndpoint(uri))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>
    /// Sends a request (built anew for every attempt) and returns the first response that is not retryable: any
    /// status other than 5xx/429. Throws <see cref="HubHttpException"/> when the retries are used up.
    /// <paramref name="singleAttempt"/> skips the retries, for callers that have a cached copy to fall back on.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, string what, CancellationToken cancellationToken, bool singleAttempt = false)
    {
        int maxAttempts = singleAttempt ? 1 : _options.MaxRetries + 1;
        for (int attempt = 1; ; attempt++)
        {
            bool unreachable = false;
            HttpResponseMessage? response = null;
            Exception? failure = null;
            using var request = build();
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.RequestTimeout);
                try
                {
                    response = await _client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                }
                catch (HttpRequestException e)
                {
                    failure = e;
                    // A name that does not resolve, or a host that refuses the connection, will not answer a second
                    // later either: fail at once instead of spending the backoff (about 30 s) on it. Timeouts, 5xx and
                    // connections dropped mid-transfer are still retried.
                    unreachable = e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError;
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = new TimeoutException($"No response within {_options.RequestTimeout.TotalSeconds:0.#} s (HubOptions.RequestTimeout).", e);
                }
            }

            if (response is not null && !IsRetryable(response.StatusCode))
            {
                return response;
            }

            int? status = response is null ? null : (int)response.StatusCode;
            TimeSpan delay = Backoff(attempt);
            if (response?.Headers.RetryAfter is { } retryAfter)
            {
                TimeSpan asked = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - DateTimeOffset.UtcNow : TimeSpan.Zero);
                if (asked > _options.MaxRetryAfter)
                {
                    response.Dispose();
                    throw new HubHttpException(
                        $"{what}: the server answered HTTP {status} and asked to retry after {asked.TotalSeconds:0} s, longer than HubOptions.MaxRetryAfter ({_options.MaxRetryAfter.TotalSeconds:0} s). Try again later.",
                        status,
                        attempt);
                }

                delay = asked > TimeSpan.Zero ? asked : TimeSpan.Zero;
            }

            response?.Dispose();
            string reason = status is { } s ? $"HTTP {s}" : $"network error ({failure!.Message})";
            if (attempt >= maxAttempts || unreachable)
            {
                throw new HubHttpException(
                    $"{what} failed after {attempt} attempt(s) (HubOptions.MaxRetries = {(singleAttempt ? 0 : _options.MaxRetries)}); last failure: {reason}. Check that {_settings.Endpoint} is reachable, or set HubOptions.Offline / HF_HUB_OFFLINE=1 to use the cache only.",
                    status,
                    attempt,
                    failure);
            }

            _logger.LogWarning("{What}: {Reason}; retry {Attempt} of {Max} in {Delay} ms.", what, reason, attempt, _options.MaxRetries, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    public TimeSpan Backoff(int failures)
    {
        double ms = _options.InitialRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, _options.MaxRetryDelay.TotalMilliseconds));
    }

    /// <summary>Turns a failed response into an exception that says what was missing or denied and what to do.</summary>
    public HubException ToException(HttpResponseMessage response, string repoId, string revision, string? path)
    {
        int status = (int)response.StatusCode;
        string code = Header(response, "X-Error-Code") ?? string.Empty;
        string serverMessage = Header(response, "X-Error-Message") is { } m ? $" The Hub said: {m}" : string.Empty;
        string what = path is null ? $"repository '{repoId}' at revision '{revision}'" : $"file '{path}' of repository '{repoId}' at revision '{revision}'";
        string tokenHint = _settings.HasToken
            ? "the configured token does not grant access"
            : $"no token is configured (set HF_TOKEN, write it to {_settings.TokenPath}, or set HubOptions.Token)";

        if (code == "RepoNotFound" || (status == 404 && code.Length == 0 && path is null))
        {
            return new HubNotFoundException(
                $"Repository '{repoId}' was not found on {_settings.Endpoint} (HTTP {status}). Check the id; if it is private or gated, {tokenHint}.{serverMessage}",
                HubMissingKind.Repository,
                repoId,
                revision,
                path);
        }

        if (code == "RevisionNotFound")
        {
            return new HubNotFoundException(
                $"Revision '{revision}' of repository '{repoId}' was not found (HTTP {status}). Use an existing branch, tag or commit hash.{serverMessage}",
                HubMissingKind.Revision,
                repoId,
                revision,
                path);
        }

        if (code == "EntryNotFound")
        {
            return new HubNotFoundException(
                $"File '{path}' was not found in repository '{repoId}' at revision '{revision}' (HTTP {status}). Check the path against the repository's file list.{serverMessage}",
                HubMissingKind.File,
                repoId,
                revision,
                path);
        }

        if (status is 401 or 403 || code == "GatedRepo")
        {
            return new HubAccessDeniedException(
                $"Access to the {what} was denied (HTTP {status}). The repository is gated or private: accept its licence at {_settings.Endpoint}{Uri.EscapeDataString(repoId).Replace("%2F", "/", StringComparison.Ordinal)} while logged in, then make a token of that account available; {tokenHint}.{serverMessage}",
                status);
        }

        if (status == 404)
        {
            return new HubNotFoundException(
                $"The {what} was not found (HTTP 404): the repository, the revision or the file does not exist.{serverMessage}",
                HubMissingKind.Unknown,
                repoId,
                revision,
                path);
        }

        return new HubHttpException($"Request for the {what} failed with HTTP {status} {response.ReasonPhrase}.{serverMessage}", status, 1);
    }

    public static string? Header(HttpResponseMessage response, string name)
    {
        if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
        {
            return values.FirstOrDefault();
        }

        return null;
    }

    private static bool IsRetryable(HttpStatusCode status) => (int)status >= 500 || status == HttpStatusCode.TooManyRequests;
}
