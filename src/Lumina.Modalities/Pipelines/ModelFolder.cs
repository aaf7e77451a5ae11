using Lumina.Checkpoints;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumina.Pipelines;

/// <summary>
/// A local model folder and the files each component reads from it, found by layout. Nothing is loaded here; the
/// checks only look at which files exist (and parse <c>model_index.json</c>).
/// </summary>
public sealed class ModelFolder
{
    /// <summary>Original-layout DiT weight names, EMA first (upstream's demos load the EMA weights).</summary>
    public static IReadOnlyList<string> OriginalCheckpointNames { get; } =
        ["consolidated_ema.00-of-01.safetensors", "consolidated.00-of-01.safetensors"];

    private ModelFolder(string path, ModelLayoutKind layout, JsonObject? modelIndex, string transformerWeights, TransformerFamily family)
    {
        Family = family;
        Path = path;
        Layout = layout;
        ModelIndex = modelIndex;
        TransformerWeights = transformerWeights;
    }

    /// <summary>Which DiT family the weights are (diffusers: the transformer's <c>_class_name</c>; original: the checkpoint keys).</summary>
    public TransformerFamily Family { get; }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Which layout it has.</summary>
    public ModelLayoutKind Layout { get; }

    /// <summary><c>model_index.json</c> (diffusers layout only).</summary>
    public JsonObject? ModelIndex { get; }

    /// <summary>The DiT weights: a <c>.safetensors</c> file or a <c>.safetensors.index.json</c>.</summary>
    public string TransformerWeights { get; }

    /// <summary>The pipeline class named in <c>model_index.json</c> (<c>_class_name</c>), if any.</summary>
    public string? PipelineClass => ModelIndex?["_class_name"]?.GetValue<string>();

    /// <summary>
    /// A pixel-space model: a diffusers folder whose <c>model_index.json</c> names no VAE (<c>"vae": [null, null]</c>) and
    /// that has no <c>vae/</c> folder (the repository's demo model). Its transformer denoises RGB pixels directly.
    /// </summary>
    public bool IsPixelSpace => Layout == ModelLayoutKind.Diffusers && Component("vae") is null
        && ModelIndex?["vae"] is JsonArray { Count: 2 } entry && entry[0] is null && entry[1] is null;

    /// <summary>A subfolder when it exists (<c>vae</c>, <c>text_encoder</c>, <c>tokenizer</c>, <c>transformer</c>, <c>scheduler</c>).</summary>
    public string? Component(string name)
    {
        var dir = System.IO.Path.Combine(Path, name);
        return Directory.Exists(dir) ? dir : null;
    }

    /// <summary>
    /// Inspects <paramref name="path"/>. <paramref name="preferEma"/> picks <c>consolidated_ema</c> over
    /// <c>consolidated</c> in the original layout when both exist.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="LuminaException">The folder is in neither layout, or a diffusers component is missing.</exception>
    public static ModelFolder Open(string path, bool preferEma = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Model folder '{path}' does not exist.");
        var index = System.IO.Path.Combine(path, "model_index.json");
        if (File.Exists(index))
        {
            JsonObject root;
            try
            {
                root = JsonNode.Parse(File.ReadAllText(index)) as JsonObject
                    ?? throw new LuminaException($"{index}: model_index.json must be a JSON object.");
            }
            catch (JsonException e)
            {
                throw new LuminaException($"{index} is not valid JSON ({e.Message}).", e);
            }
            var transformer = System.IO.Path.Combine(path, "transformer");
            var weights = WeightsIn(transformer, "diffusion_pytorch_model")
                ?? throw new LuminaException(
                    $"'{path}' is a diffusers folder but transformer/ holds no diffusion_pytorch_model.safetensors (or its .index.json). Download the safetensors weights.");
            var configPath = System.IO.Path.Combine(transformer, "config.json");
            string? cls;
            try
            {
                cls = File.Exists(configPath) ? (JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject)?["_class_name"]?.GetValue<string>() : null;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new LuminaException($"{configPath} is not valid JSON ({e.Message}).", e);
            }
            if (cls is not null && cls != NextDiTConfigJson.DiffusersClassName)
                throw new LuminaException($"'{path}': transformer/config.json names '{cls}'; only {NextDiTConfigJson.DiffusersClassName} (Lumina-Next) has a diffusers layout.");
            return new ModelFolder(path, ModelLayoutKind.Diffusers, root, weights, TransformerFamily.NextDiT);
        }

        var names = preferEma ? OriginalCheckpointNames : OriginalCheckpointNames.Reverse();
        var original = names.Select(n => System.IO.Path.Combine(path, n)).FirstOrDefault(File.Exists);
        if (original is not null)
        {
            using var checkpoint = Lumina.Tensors.SafetensorsCheckpoint.Open(original);
            var family = checkpoint.Tensors.Any(t => t.Name == "eol_token") ? TransformerFamily.FlagDiT : TransformerFamily.NextDiT;
            return new ModelFolder(path, ModelLayoutKind.Original, null, original, family);
        }
        throw new LuminaException(
            $"'{path}' is neither a diffusers folder (model_index.json) nor an original Lumina folder ({string.Join(" or ", OriginalCheckpointNames)}). " +
            "Only .safetensors weights are read; convert .pth files first.");
    }

    /// <summary>Finds <c>{stem}.safetensors</c> or <c>{stem}.safetensors.index.json</c> in a folder.</summary>
    public static string? WeightsIn(string folder, string stem)
    {
        if (!Directory.Exists(folder)) return null;
        return new[] { $"{stem}.safetensors", $"{stem}.safetensors.index.json" }
            .Select(n => System.IO.Path.Combine(folder, n)).FirstOrDefault(File.Exists);
    }
}
