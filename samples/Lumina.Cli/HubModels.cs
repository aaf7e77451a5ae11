using Lumina.Hub;
using Lumina.Pipelines;

namespace Lumina.Cli;

/// <summary>Resolves Hub repo ids (<c>org/name</c> or <c>org/name@revision</c>) to local snapshot folders, with a progress bar.</summary>
internal static class HubModels
{
    /// <summary>
    /// Checks a model reference: an existing folder, or something shaped like a Hub id (<c>org/name[@revision]</c>).
    /// A path that does not exist is reported as missing rather than sent to the Hub.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The reference is a path and nothing is there.</exception>
    public static string Check(string reference)
    {
        if (Directory.Exists(reference))
            return reference;
        var looksLikePath = Path.IsPathRooted(reference) || reference.StartsWith('.') || reference.StartsWith('~')
            || reference.Count(c => c == '/') != 1 || reference.Contains('\\');
        if (looksLikePath || File.Exists(reference))
            throw new DirectoryNotFoundException($"'{reference}' is not a model folder; pass a model folder or a Hub repo id such as Alpha-VLLM/Lumina-Next-SFT-diffusers.");
        return reference;
    }

    /// <summary>A <see cref="ModelResolver"/> that downloads only the files the model's layout needs into the shared cache.</summary>
    public static ModelResolver Resolver(string? cacheDir = null) => async (reference, cancellationToken) =>
    {
        var at = reference.LastIndexOf('@');
        var (repo, revision) = at > 0 ? (reference[..at], reference[(at + 1)..]) : (reference, "main");
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
        var client = new HubClient(http, new HubOptions { CacheDirectory = cacheDir });
        var model = await ConsoleProgress.RunDownloadAsync(
            reference,
            progress => client.DownloadModelAsync(repo, new ModelDownloadOptions { Revision = revision }, progress, cancellationToken)).ConfigureAwait(false);
        return model.SnapshotFolder;
    };
}
