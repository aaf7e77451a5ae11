using Lumina.Hub;

namespace Lumina.Pipelines;

/// <summary>
/// Decides whether a model reference given to <c>FromPretrained</c> is a local folder or a Hub repo id, the one place
/// every builder asks. An existing folder always wins. A string that looks like a path (<c>./x</c>, <c>../x</c>,
/// <c>/x</c>, <c>~/x</c>, <c>a/b/c</c>, a trailing slash or a backslash) and names no folder fails at once with
/// "no such local folder". A string that could be either (<c>models/lumina-demo</c>, <c>org/name</c>) and names no
/// folder goes to the Hub; if the Hub cannot be reached (a name that does not resolve, a refused connection, which
/// Lumina.Hub does not retry) or has no such repo, the error says both: "no such local folder; as a Hub id, …".
/// </summary>
internal static class ModelReference
{
    /// <summary>Whether <paramref name="reference"/> can only be meant as a local path, never as a Hub id.</summary>
    public static bool LooksLikeLocalPath(string reference)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        if (Path.IsPathRooted(reference) || reference.StartsWith('.') || reference.StartsWith('~') || reference.Contains('\\')
            || Path.EndsInDirectorySeparator(reference))
            return true;
        return HubModelResolver.Split(reference).Repo.Count(c => c == '/') > 1;
    }

    /// <summary>Whether <paramref name="reference"/> is shaped like a Hub repo id (<c>name</c> or <c>org/name</c>, optionally <c>@revision</c>).</summary>
    public static bool IsHubIdShaped(string reference)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        if (LooksLikeLocalPath(reference))
            return false;
        var parts = HubModelResolver.Split(reference).Repo.Split('/');
        return parts.Length is 1 or 2 && parts.All(p => p.Length > 0 && !p.StartsWith('.') && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
    }

    /// <summary>
    /// The local folder for <paramref name="reference"/>: itself when it is an existing folder (or, for
    /// <see cref="ModelComponent.Pipeline"/>, a single-file checkpoint, <see cref="ModelFolder.IsSingleFileCheckpoint"/>), else what
    /// <paramref name="resolver"/> downloads for it as a Hub id; see the class summary for what fails and how.
    /// </summary>
    /// <param name="reference">What the user gave.</param>
    /// <param name="component">What the reference holds.</param>
    /// <param name="resolver">Makes the resolver when one is needed (so no Hub client is created for local folders), or returns null when none is set.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="DirectoryNotFoundException">No such folder, and as a Hub id it is malformed, unreachable or missing.</exception>
    public static async Task<string> ResolveAsync(string reference, ModelComponent component, Func<ModelResolver?> resolver, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        ArgumentNullException.ThrowIfNull(resolver);
        if (Directory.Exists(reference))
            return reference;
        var full = Path.GetFullPath(reference);
        if (component == ModelComponent.Pipeline && ModelFolder.IsSingleFileCheckpoint(reference))
            return reference; // a single-file checkpoint (a ComfyUI file): ModelFolder.Open reads it
        if (File.Exists(reference))
            throw new DirectoryNotFoundException($"'{reference}' is a file; give the model folder that holds it ({Path.GetDirectoryName(full)}) or a Hub id.");
        if (!IsHubIdShaped(reference))
            throw new DirectoryNotFoundException($"'{reference}': no such local folder ({full}); it is not a Hub id (org/name) either. Check the path.");
        if (resolver() is not { } resolve)
            throw new DirectoryNotFoundException($"'{reference}': no such local folder ({full}), and no model resolver is set to look it up on the Hub.");
        try
        {
            return await resolve(reference, component, cancellationToken).ConfigureAwait(false);
        }
        catch (HubHttpException e) when (e.StatusCode is null)
        {
            throw new DirectoryNotFoundException($"'{reference}': no such local folder ({full}); as a Hub id, it could not be reached ({FirstLine(e.InnerException?.Message ?? e.Message)}). " +
                                                 "Check the path, or the network and HF_ENDPOINT.", e);
        }
        catch (HubNotFoundException e)
        {
            throw new DirectoryNotFoundException($"'{reference}': no such local folder ({full}); as a Hub id, {FirstLine(e.Message)}", e);
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
