using System.Text.Json;
using System.Text.Json.Nodes;
using Lumina.Models.DiT;

namespace Lumina.Checkpoints;

/// <summary>
/// diffusers <c>transformer/config.json</c> of <c>Lumina2Transformer2DModel</c> ↔ <see cref="Lumina2Config"/>. A config
/// read from it describes diffusers' module (q/k eps 1e-5, no <c>norm_final</c>), so its checkpoint loads strictly.
/// </summary>
public static class Lumina2ConfigJson
{
    /// <summary>The diffusers class name of the Lumina-Image 2.0 transformer.</summary>
    public const string DiffusersClassName = "Lumina2Transformer2DModel";

    /// <summary>Parses a diffusers transformer <c>config.json</c> (absent keys take diffusers' defaults).</summary>
    /// <exception cref="LuminaException">The JSON is malformed, of another class, or inconsistent.</exception>
    public static Lumina2Config Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No transformer config at '{path}'.", path);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new LuminaException($"{path}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new LuminaException($"{path} is not valid JSON ({e.Message}).", e);
        }
        var cls = root["_class_name"]?.GetValue<string>();
        if (cls is not null && cls != DiffusersClassName)
            throw new LuminaException($"{path}: _class_name is '{cls}'; expected {DiffusersClassName} (Lumina-Image 2.0).");
        var d = DiTPresets.Lumina2Diffusers;
        try
        {
            var config = d with
            {
                PatchSize = Int(root, "patch_size") ?? d.PatchSize,
                InChannels = Int(root, "in_channels") ?? d.InChannels,
                Dim = Int(root, "hidden_size") ?? d.Dim,
                Layers = Int(root, "num_layers") ?? d.Layers,
                RefinerLayers = Int(root, "num_refiner_layers") ?? d.RefinerLayers,
                Heads = Int(root, "num_attention_heads") ?? d.Heads,
                KvHeads = Int(root, "num_kv_heads") ?? d.KvHeads,
                MultipleOf = Int(root, "multiple_of") ?? d.MultipleOf,
                FfnDimMultiplier = root["ffn_dim_multiplier"]?.GetValue<double>(),
                NormEps = root["norm_eps"]?.GetValue<double>() ?? d.NormEps,
                CaptionDim = Int(root, "cap_feat_dim") ?? d.CaptionDim,
                AxesDims = Ints(root, "axes_dim_rope") ?? d.AxesDims,
                AxesLens = Ints(root, "axes_lens") ?? d.AxesLens,
            };
            config.Validate();
            return config;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new LuminaException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="config"/> as a diffusers transformer <c>config.json</c>.</summary>
    /// <param name="config">The architecture (its q/k eps and <c>norm_final</c> are not part of diffusers' config).</param>
    /// <param name="path">The file to write.</param>
    /// <param name="sampleSize">Latent side at the training resolution (128 for the 1024-px model).</param>
    public static void Write(Lumina2Config config, string path, int sampleSize = 128)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var root = new JsonObject
        {
            ["_class_name"] = DiffusersClassName,
            ["sample_size"] = sampleSize,
            ["patch_size"] = config.PatchSize,
            ["in_channels"] = config.InChannels,
            ["hidden_size"] = config.Dim,
            ["num_layers"] = config.Layers,
            ["num_refiner_layers"] = config.RefinerLayers,
            ["num_attention_heads"] = config.Heads,
            ["num_kv_heads"] = config.KvHeadCount,
            ["multiple_of"] = config.MultipleOf,
            ["ffn_dim_multiplier"] = config.FfnDimMultiplier,
            ["norm_eps"] = config.NormEps,
            ["scaling_factor"] = 1.0,
            ["axes_dim_rope"] = new JsonArray(config.AxesDims.Select(v => (JsonNode)v).ToArray()),
            ["axes_lens"] = new JsonArray(config.AxesLens.Select(v => (JsonNode)v).ToArray()),
            ["cap_feat_dim"] = config.CaptionDim,
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static int? Int(JsonObject root, string key) => root[key] is { } node ? node.GetValue<int>() : null;

    private static int[]? Ints(JsonObject root, string key) => root[key] is JsonArray a ? a.Select(n => n!.GetValue<int>()).ToArray() : null;
}
