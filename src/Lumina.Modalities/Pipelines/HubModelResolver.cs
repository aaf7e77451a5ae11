using System.Net;
using Lumina.Hub;

namespace Lumina.Pipelines;

/// <summary>
/// <see cref="ModelResolver"/> over Lumina.Hub: pipeline repos are resolved by layout (only the files that layout
/// needs are downloaded), component repos by file patterns. Everything lands in the huggingface_hub cache layout, so
/// an existing Python cache is reused and offline mode works.
/// </summary>
public static class HubModelResolver
{
    private static readonly string[] TextEncoderFileNames =
        ["config.json", "model.safetensors", "model-*.safetensors", "model.safetensors.index.json", "tokenizer.model", "spiece.model",
         "tokenizer_config.json", "special_tokens_map.json"];

    private static readonly string[] VaeFileNames =
        ["config.json", "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model-*.safetensors"];

    /// <summary>
    /// Files of a text-encoder repo a caption encoder reads: at the root of a text-encoder repo, or in the
    /// <c>text_encoder/</c> and <c>tokenizer/</c> of a diffusers pipeline repo (only those, not its transformer).
    /// </summary>
    public static IReadOnlyList<string> TextEncoderFiles { get; } =
        [.. TextEncoderFileNames, .. TextEncoderFileNames.Select(f => "text_encoder/" + f), .. TextEncoderFileNames.Select(f => "tokenizer/" + f)];

    /// <summary>Files of a diffusers VAE repo, or of the <c>vae/</c> of a diffusers pipeline repo.</summary>
    public static IReadOnlyList<string> VaeFiles { get; } = [.. VaeFileNames, .. VaeFileNames.Select(f => "vae/" + f)];

    /// <summary>A resolver that downloads through <paramref name="hub"/>.</summary>
    /// <param name="hub">The Hub client (endpoint, token, cache, offline mode).</param>
    /// <param name="preferEma">Original layout: fetch <c>consolidated_ema</c> rather than <c>consolidated</c> when the repo has it.</param>
    /// <param name="progress">Receives per-file download progress (nothing is reported for files already in the cache).</param>
    public static ModelResolver Create(HubClient hub, bool preferEma = true, IProgress<DownloadProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(hub);
        return async (reference, component, cancellationToken) =>
        {
            var (repo, revision) = Split(reference);
            switch (component)
            {
                case ModelComponent.Pipeline:
                    ResolvedModel model;
                    try
                    {
                        model = await hub.DownloadModelAsync(repo, new ModelDownloadOptions { Revision = revision, UseEma = preferEma }, progress, cancellationToken)
                            .ConfigureAwait(false);
                    }
                    catch (HubLayoutException) when (preferEma)
                    {
                        // EMA is a preference: an original repo with only consolidated.* weights still loads.
                        model = await hub.DownloadModelAsync(repo, new ModelDownloadOptions { Revision = revision, UseEma = false }, progress, cancellationToken)
                            .ConfigureAwait(false);
                    }
                    return model.SnapshotFolder;
                case ModelComponent.TextEncoder:
                case ModelComponent.Vae:
                    var patterns = component == ModelComponent.Vae ? VaeFiles : TextEncoderFiles;
                    return await hub.DownloadSnapshotAsync(repo, new SnapshotDownloadOptions { Revision = revision, AllowPatterns = patterns }, progress, cancellationToken)
                        .ConfigureAwait(false);
                default:
                    throw new ArgumentOutOfRangeException(nameof(component), component, "Unknown model component.");
            }
        };
    }

    /// <summary>
    /// A Hub client configured from the HF_* environment variables (endpoint, token, offline), with its cache in
    /// <paramref name="cacheFolder"/> when given. Its handler follows no redirects and decompresses nothing, as the Hub
    /// protocol needs.
    /// </summary>
    public static HubClient CreateDefaultClient(string? cacheFolder = null)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None };
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        return new HubClient(http, new HubOptions { CacheDirectory = cacheFolder });
    }

    /// <summary>Splits <c>org/name@revision</c>; the revision defaults to <c>main</c>.</summary>
    public static (string Repo, string Revision) Split(string reference)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        var at = reference.LastIndexOf('@');
        return at > 0 ? (reference[..at], reference[(at + 1)..]) : (reference, "main");
    }
}
