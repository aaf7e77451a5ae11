using System.Text.Json;
using System.Text.Json.Nodes;
using Lumina.Checkpoints;
using Lumina.Schedulers;
using Lumina.Tensors;

namespace Lumina.Pipelines;

/// <summary>
/// A local model folder and the files each component reads from it, found by layout. Nothing is loaded here; the
/// checks only look at which files exist and read small JSON files and safetensors headers. Which family the folder
/// holds is the registry's question (<see cref="Families.ModelFamilies.Detect(ModelFolder)"/>).
/// </summary>
public sealed class ModelFolder
{
    /// <summary>Original-layout DiT weight names, EMA first (upstream's demos load the EMA weights).</summary>
    public static IReadOnlyList<string> OriginalCheckpointNames { get; } =
        ["consolidated_ema.00-of-01.safetensors", "consolidated.00-of-01.safetensors"];

    private readonly Lazy<IReadOnlyCollection<string>> tensorNames;
    private readonly Lazy<JsonObject?> transformerConfig;

    private ModelFolder(string path, ModelLayoutKind layout, DiffusersModelIndex? index, string transformerWeights)
    {
        Path = path;
        Layout = layout;
        ModelIndex = index;
        TransformerWeights = transformerWeights;
        tensorNames = new(() =>
        {
            using ITensorSource checkpoint = TransformerWeights.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
                ? GgufFile.Open(TransformerWeights)
                : SafetensorsCheckpoint.Open(TransformerWeights);
            return checkpoint.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        });
        transformerConfig = new(() =>
        {
            var file = TransformerConfigPath;
            if (file is null) return null;
            try
            {
                return JsonNode.Parse(File.ReadAllText(file)) as JsonObject
                    ?? throw new LuminaException($"{file}: expected a JSON object.");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new LuminaException($"{file} is not valid JSON ({e.Message}).", e);
            }
        });
    }

    /// <summary>The folder (for <see cref="ModelLayoutKind.SingleFile"/>, the checkpoint file).</summary>
    public string Path { get; }

    /// <summary>
    /// The file names a single-file checkpoint may have (<c>.safetensors</c>); <see cref="Open"/> accepts such a file in
    /// place of a folder. The one list of them, so other formats plug in here.
    /// </summary>
    public static IReadOnlyList<string> SingleFileExtensions { get; } = [".safetensors", ".gguf"];

    /// <summary>Whether <paramref name="path"/> is an existing file <see cref="Open"/> reads as a single-file checkpoint.</summary>
    public static bool IsSingleFileCheckpoint(string path) =>
        File.Exists(path) && SingleFileExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>Which layout it has.</summary>
    public ModelLayoutKind Layout { get; }

    /// <summary><c>model_index.json</c> (diffusers layout only).</summary>
    public DiffusersModelIndex? ModelIndex { get; }

    /// <summary>The DiT weights: a <c>.safetensors</c> file or a <c>.safetensors.index.json</c>.</summary>
    public string TransformerWeights { get; }

    /// <summary>The pipeline class named in <c>model_index.json</c> (<c>_class_name</c>), if any.</summary>
    public string? PipelineClass => ModelIndex?.PipelineClass;

    /// <summary><c>transformer/config.json</c> when it exists (diffusers layout).</summary>
    public string? TransformerConfigPath => Layout == ModelLayoutKind.Diffusers && File.Exists(System.IO.Path.Combine(Path, "transformer", "config.json"))
        ? System.IO.Path.Combine(Path, "transformer", "config.json")
        : null;

    /// <summary>The transformer's class: <c>_class_name</c> of <c>transformer/config.json</c>, else the index's entry; null when neither says.</summary>
    public string? TransformerClass =>
        transformerConfig.Value?["_class_name"] is JsonValue v && v.TryGetValue(out string? cls) ? cls : ModelIndex?.Component("transformer")?.ClassName;

    /// <summary>The tensor names of <see cref="TransformerWeights"/> (read from the safetensors headers once).</summary>
    public IReadOnlyCollection<string> TransformerTensorNames => tensorNames.Value;

    /// <summary>
    /// A pixel-space model: a diffusers folder whose <c>model_index.json</c> names no VAE (<c>"vae": [null, null]</c>) and
    /// that has no <c>vae/</c> folder (the repository's demo model). Its transformer denoises RGB pixels directly.
    /// </summary>
    public bool IsPixelSpace => Layout == ModelLayoutKind.Diffusers && Component("vae") is null && ModelIndex?.Component("vae") is { IsNone: true };

    /// <summary>
    /// The folder's <c>scheduler/scheduler_config.json</c> (diffusers layout), or null when it has none. Its <c>shift</c>
    /// (and dynamic-shifting fields) are the folder's sampling defaults.
    /// </summary>
    /// <exception cref="LuminaException">The file is malformed.</exception>
    public FlowMatchSchedulerConfig? SchedulerConfig
    {
        get
        {
            if (Layout != ModelLayoutKind.Diffusers || DiffusersFolder.SchedulerConfigPath(Path) is not { } file) return null;
            try
            {
                return FlowMatchSchedulerConfig.FromFile(file);
            }
            catch (ArgumentException e)
            {
                throw new LuminaException($"{file}: {e.Message}", e);
            }
        }
    }

    /// <summary>A subfolder when it exists (<c>vae</c>, <c>text_encoder</c>, <c>tokenizer</c>, <c>transformer</c>, <c>scheduler</c>).</summary>
    public string? Component(string name)
    {
        if (Layout == ModelLayoutKind.SingleFile) return null;
        var dir = System.IO.Path.Combine(Path, name);
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>
    /// The latent side at the training resolution from <c>transformer/config.json</c>'s <c>sample_size</c>, or null when
    /// absent (original layout, or no such key).
    /// </summary>
    public int? TransformerSampleSize =>
        transformerConfig.Value?["sample_size"] is JsonValue v && v.TryGetValue<int>(out var n) && n > 0 ? n : null;

    /// <summary>
    /// Inspects <paramref name="path"/>: a folder in either layout, or a single checkpoint file
    /// (<see cref="SingleFileExtensions"/>; <see cref="ModelLayoutKind.SingleFile"/>). <paramref name="preferEma"/> picks <c>consolidated_ema</c> over
    /// <c>consolidated</c> in the original layout when both exist.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="LuminaException">The folder is in neither layout, or a diffusers component is missing.</exception>
    public static ModelFolder Open(string path, bool preferEma = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (IsSingleFileCheckpoint(path))
        {
            var file = System.IO.Path.GetFullPath(path);
            return new ModelFolder(file, ModelLayoutKind.SingleFile, null, file);
        }
        if (File.Exists(path))
            throw new LuminaException($"'{path}' is a file but not a single-file checkpoint ({string.Join(", ", SingleFileExtensions)}); give a model folder or a checkpoint file.");
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Model folder '{path}' does not exist.");
        if (DiffusersFolder.IsDiffusersFolder(path))
        {
            var index = DiffusersModelIndex.FromFile(path);
            var transformer = System.IO.Path.Combine(path, "transformer");
            var weights = DiffusersFolder.WeightsIn(transformer, "diffusion_pytorch_model")
                ?? (Directory.Exists(transformer) ? Directory.EnumerateFiles(transformer, "*.safetensors").Order(StringComparer.Ordinal).FirstOrDefault() : null)
                ?? throw new LuminaException(
                    $"'{path}' is a diffusers folder but transformer/ holds no diffusion_pytorch_model.safetensors (or its .index.json). Download the safetensors weights.");
            if (Directory.Exists(System.IO.Path.Combine(path, DiffusersFolder.SchedulerFolder)) && DiffusersFolder.SchedulerConfigPath(path) is null)
                throw new LuminaException($"'{System.IO.Path.Combine(path, DiffusersFolder.SchedulerFolder)}' has no {DiffusersFolder.SchedulerConfigFile}; the diffusers folder is incomplete.");
            return new ModelFolder(path, ModelLayoutKind.Diffusers, index, weights);
        }

        var names = preferEma ? OriginalCheckpointNames : OriginalCheckpointNames.Reverse();
        var original = names.Select(n => System.IO.Path.Combine(path, n)).FirstOrDefault(File.Exists);
        if (original is not null) return new ModelFolder(path, ModelLayoutKind.Original, null, original);
        throw new LuminaException(
            $"'{path}' is neither a diffusers folder ({DiffusersFolder.ModelIndexFile}) nor an original Lumina folder ({string.Join(" or ", OriginalCheckpointNames)}). " +
            "Only .safetensors weights are read; convert .pth files first.");
    }
}
