using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lumina.Hub;

/// <summary>Decides a repository's layout and the files a pipeline needs from it.</summary>
internal static partial class ModelFileSelector
{
    public const string ModelIndex = "model_index.json";

    private static readonly string[] OtherWeightSuffixes =
    [
        ".bin", ".ckpt", ".pt", ".pth", ".msgpack", ".h5", ".onnx", ".onnx_data", ".pb", ".gguf",
    ];

    public static ModelLayout? Detect(IReadOnlyCollection<string> files)
    {
        if (files.Contains(ModelIndex))
        {
            return ModelLayout.Diffusers;
        }

        return files.Any(f => ConsolidatedRegex().IsMatch(f)) ? ModelLayout.Original : null;
    }

    public static string NoLayoutMessage(string repoId, string revision) =>
        $"Repository '{repoId}' at revision '{revision}' has neither '{ModelIndex}' (a diffusers repository) nor 'consolidated*.safetensors' at its root (an original Lumina-T2X repository), so Lumina.NET cannot tell how to load it. Use a diffusers or original Lumina repository id, or download single files with DownloadFileAsync.";

    public static IReadOnlyList<string> SelectDiffusers(string repoId, IReadOnlyCollection<string> files, string modelIndexJson, string? variant)
    {
        JsonObject index;
        try
        {
            index = JsonNode.Parse(modelIndexJson) as JsonObject
                ?? throw new HubLayoutException($"'{ModelIndex}' of '{repoId}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new HubLayoutException($"'{ModelIndex}' of '{repoId}' is not valid JSON: {e.Message}");
        }

        var selected = new List<string> { ModelIndex };
        foreach ((string component, JsonNode? value) in index)
        {
            if (component.StartsWith('_') || value is not JsonArray { Count: 2 } pair || pair[0] is null || pair[1] is null)
            {
                continue;
            }

            string prefix = component + "/";
            var componentFiles = files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            var safetensors = new List<(string File, string? Variant)>();
            bool otherWeights = false;
            foreach (string file in componentFiles)
            {
                string name = file[(file.LastIndexOf('/') + 1)..];
                if (SafetensorsRegex().Match(name) is { Success: true } m)
                {
                    safetensors.Add((file, m.Groups["variant"].Success ? m.Groups["variant"].Value : null));
                }
                else if (SafetensorsIndexRegex().Match(name) is { Success: true } mi)
                {
                    safetensors.Add((file, mi.Groups["variant"].Success ? mi.Groups["variant"].Value : null));
                }
                else if (IsOtherWeight(name))
                {
                    otherWeights = true;
                }
                else
                {
                    selected.Add(file);
                }
            }

            if (safetensors.Count == 0)
            {
                if (otherWeights)
                {
                    throw new HubLayoutException(
                        $"Component '{component}' of '{repoId}' has weights only in formats other than safetensors (.bin/.ckpt/...). Lumina.NET loads safetensors only and never unpickles; use a repository or revision with .safetensors weights.");
                }

                continue;
            }

            var variants = safetensors.Select(s => s.Variant).ToHashSet();
            string? chosen = variant is not null && variants.Contains(variant) ? variant : null;
            if (!variants.Contains(chosen))
            {
                string available = string.Join(", ", variants.Where(v => v is not null).Order(StringComparer.Ordinal));
                throw new HubLayoutException(
                    $"Component '{component}' of '{repoId}' has no {(variant is null ? "plain" : $"'{variant}' or plain")} safetensors weights, only the variant(s) {available}. Set ModelDownloadOptions.Variant to one of them.");
            }

            selected.AddRange(safetensors.Where(s => s.Variant == chosen).Select(s => s.File));
        }

        selected.Sort(StringComparer.Ordinal);
        return selected.Distinct().ToList();
    }

    public static IReadOnlyList<string> SelectOriginal(string repoId, IReadOnlyCollection<string> files, bool useEma)
    {
        var weights = new List<string>();
        var others = new List<string>();
        foreach (string file in files)
        {
            if (ConsolidatedRegex().Match(file) is { Success: true } m)
            {
                (m.Groups["ema"].Success == useEma ? weights : others).Add(file);
            }
        }

        if (weights.Count == 0)
        {
            throw new HubLayoutException(
                $"Repository '{repoId}' has no {(useEma ? "EMA (consolidated_ema.*)" : "non-EMA (consolidated.*)")} weights; it has {string.Join(", ", others)}. Set ModelDownloadOptions.UseEma = {(!useEma).ToString().ToLowerInvariant()}.");
        }

        // Root JSON files carry configs; pickles such as model_args.pth are never needed (the presets replace them).
        weights.AddRange(files.Where(f => !f.Contains('/') && f.EndsWith(".json", StringComparison.Ordinal)));
        weights.Sort(StringComparer.Ordinal);
        return weights;
    }

    private static bool IsOtherWeight(string name) =>
        OtherWeightSuffixes.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase))
        || OtherIndexRegex().IsMatch(name);

    [GeneratedRegex(@"^consolidated(?<ema>_ema)?(\.\d+-of-\d+)?\.safetensors$")]
    private static partial Regex ConsolidatedRegex();

    [GeneratedRegex(@"^[^.]+(\.(?<variant>[^.]+?))?(-\d+-of-\d+)?\.safetensors$")]
    private static partial Regex SafetensorsRegex();

    [GeneratedRegex(@"^[^.]+\.safetensors\.index(\.(?<variant>[^.]+))?\.json$")]
    private static partial Regex SafetensorsIndexRegex();

    [GeneratedRegex(@"^[^.]+\.(bin|msgpack|ckpt|pt|pth|h5)\.index(\.[^.]+)?\.json$")]
    private static partial Regex OtherIndexRegex();
}
