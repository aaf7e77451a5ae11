namespace Lumina.Hub;

/// <summary>How a model repository is organised.</summary>
internal enum ModelLayout
{
    /// <summary>A diffusers repository: <c>model_index.json</c> plus one folder per component.</summary>
    Diffusers,

    /// <summary>An original Lumina-T2X repository: <c>consolidated[_ema].NN-of-MM.safetensors</c> at the root.</summary>
    Original,
}

/// <summary>Which files of a model repository a pipeline needs.</summary>
public sealed record ModelDownloadOptions
{
    /// <summary>Branch, tag or commit. Default <c>main</c>.</summary>
    public string Revision { get; init; } = "main";

    /// <summary>
    /// Diffusers weight variant such as <c>fp16</c> or <c>bf16</c> (<c>diffusion_pytorch_model.fp16.safetensors</c>).
    /// Components without that variant fall back to their plain weights. Null takes the plain weights.
    /// </summary>
    public string? Variant { get; init; }

    /// <summary>Original layout: take the EMA weights (<c>consolidated_ema.*</c>) instead of <c>consolidated.*</c>.</summary>
    public bool UseEma { get; init; }

    /// <summary>How many files to download at once; null uses <see cref="HubOptions.MaxParallelDownloads"/>.</summary>
    public int? MaxParallelDownloads { get; init; }
}

/// <summary>A model repository resolved to its layout and the files a pipeline needs from it.</summary>
/// <param name="RepoId">The repository id.</param>
/// <param name="CommitHash">The commit the revision resolved to.</param>
/// <param name="SnapshotFolder">The local snapshot folder; the files below are relative to it.</param>
/// <param name="Files">The repository paths the pipeline needs, sorted.</param>
public sealed record ResolvedModel(string RepoId, string CommitHash, string SnapshotFolder, IReadOnlyList<string> Files)
{
    /// <summary>Diffusers or original Lumina (the file selection's business; the pipelines read the folder itself).</summary>
    internal ModelLayout Layout { get; init; }

    /// <summary>The local path of one of <see cref="Files"/>.</summary>
    public string LocalPath(string file) => Path.Combine(SnapshotFolder, HubPaths.ToLocal(file));
}
