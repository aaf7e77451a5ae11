using System.Text.Json;
using System.Text.Json.Nodes;
using Lumina.Tensors;

namespace Lumina.Cli.Inspection;

/// <summary>What a model folder or checkpoint contains, without loading any tensor data.</summary>
/// <param name="Path">What was inspected.</param>
/// <param name="FolderLayout">diffusers (model_index.json), original (consolidated*.safetensors), component, or single file.</param>
/// <param name="PipelineClass">The pipeline class named in model_index.json, if any.</param>
/// <param name="Components">The weight-bearing parts, by name (for example transformer, vae).</param>
/// <param name="OtherParts">Parts without weights (tokenizer, scheduler) and what they hold.</param>
internal sealed record ModelInspection(
    string Path,
    string FolderLayout,
    string? PipelineClass,
    IReadOnlyList<(string Name, ComponentSummary Summary)> Components,
    IReadOnlyList<(string Name, string What)> OtherParts);

/// <summary>Reads headers and configs to describe a model folder (either published layout) or a single checkpoint.</summary>
internal static class ModelInspector
{
    private static readonly string[] WeightStems = ["diffusion_pytorch_model", "model"];

    /// <summary>Inspects <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at the path, or a folder holds no weights.</exception>
    /// <exception cref="SafetensorsException">A checkpoint is malformed.</exception>
    public static ModelInspection Inspect(string path)
    {
        // A named pipe would block the first read forever and a device never ends: only files and folders are inspected.
        var kind = Lumina.IO.FileKinds.Of(path);
        if (kind is not (Lumina.IO.FileKind.RegularFile or Lumina.IO.FileKind.Directory or Lumina.IO.FileKind.Missing))
            throw new IOException($"'{path}' is {Lumina.IO.FileKinds.Describe(kind)}; pass a .safetensors file, a *.safetensors.index.json or a model folder.");
        if (File.Exists(path))
            return new ModelInspection(path, "single checkpoint", null, [(System.IO.Path.GetFileName(path), Summarize(path, null))], []);
        if (!Directory.Exists(path))
            throw new FileNotFoundException($"'{path}' does not exist; pass a .safetensors file, a *.safetensors.index.json or a model folder.", path);

        var modelIndex = System.IO.Path.Combine(path, "model_index.json");
        if (File.Exists(modelIndex))
            return InspectDiffusers(path, modelIndex);

        var consolidated = Directory.GetFiles(path, "consolidated*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (consolidated.Count > 0)
        {
            var parts = consolidated.Select(f => (System.IO.Path.GetFileName(f), Summarize(f, null))).ToList();
            return new ModelInspection(path, "original (Lumina-T2X consolidated checkpoints)", null, parts, []);
        }

        var config = ReadJson(System.IO.Path.Combine(path, "config.json"));
        return new ModelInspection(path, "component folder", null, [(System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(path)), Summarize(path, config))], []);
    }

    private static ModelInspection InspectDiffusers(string folder, string modelIndex)
    {
        var index = ReadJson(modelIndex) as JsonObject
            ?? throw new InvalidDataException($"{modelIndex} is not a JSON object.");
        var components = new List<(string, ComponentSummary)>();
        var others = new List<(string, string)>();
        foreach (var (name, value) in index)
        {
            if (name.StartsWith('_') || value is not JsonArray { Count: 2 } spec)
                continue;
            if (spec[0] is null && spec[1] is null)
            {
                others.Add((name, name == "vae" ? "none: a pixel-space model (images are denoised directly as RGB)" : "none"));
                continue;
            }

            var className = $"{spec[0]?.ToString()}.{spec[1]?.ToString()}";
            var dir = System.IO.Path.Combine(folder, name);
            if (!Directory.Exists(dir))
            {
                others.Add((name, $"{className}: folder missing"));
                continue;
            }

            var weights = FindWeights(dir);
            if (weights is null)
            {
                var files = Directory.GetFiles(dir).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal);
                others.Add((name, $"{className}: {string.Join(", ", files)}"));
                continue;
            }

            components.Add((name, Summarize(weights, ReadJson(System.IO.Path.Combine(dir, "config.json")))));
        }

        return new ModelInspection(folder, "diffusers (model_index.json)", index["_class_name"]?.ToString(), components, others);
    }

    private static string? FindWeights(string dir)
    {
        foreach (var stem in WeightStems)
            foreach (var name in new[] { $"{stem}.safetensors.index.json", $"{stem}.safetensors" })
                if (File.Exists(System.IO.Path.Combine(dir, name)))
                    return System.IO.Path.Combine(dir, name);
        return Directory.GetFiles(dir, "*.safetensors").Length > 0 || Directory.GetFiles(dir, "*" + SafetensorsCheckpoint.IndexSuffix).Length > 0 ? dir : null;
    }

    private static ComponentSummary Summarize(string path, JsonNode? config)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(path);
        var tensors = checkpoint.Tensors;
        var (family, layout) = ComponentFamilies.Detect(tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal), config);
        var metadata = checkpoint.Files.SelectMany(f => f.Metadata).ToList();
        return new ComponentSummary(checkpoint.SourcePath, family, layout, checkpoint.Files.Count, tensors, metadata);
    }

    private static JsonNode? ReadJson(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }
}
