using System.Text.Json;
using System.Text.Json.Nodes;
using Lumina.Models.DiT;

namespace Lumina.Checkpoints;

/// <summary>
/// diffusers <c>transformer/config.json</c> of <c>LuminaNextDiT2DModel</c> ↔ <see cref="NextDiTConfig"/>. A video model
/// (<see cref="NextDiTConfig.Video"/>) is marked with <c>"video": true</c>, a key of Lumina.NET's own (no upstream video
/// checkpoint exists).
/// </summary>
public static class NextDiTConfigJson
{
    /// <summary>The diffusers class name of Next-DiT.</summary>
    public const string DiffusersClassName = "LuminaNextDiT2DModel";

    /// <summary>Parses a diffusers transformer <c>config.json</c>.</summary>
    /// <exception cref="LuminaException">The JSON is malformed or not a <c>LuminaNextDiT2DModel</c> config.</exception>
    public static NextDiTConfig Read(string path)
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
            throw new LuminaException($"{path}: _class_name is '{cls}'; only {DiffusersClassName} (Lumina-Next) is supported here.");
        var d = new NextDiTConfig();
        try
        {
            var config = new NextDiTConfig
            {
                PatchSize = Int(root, "patch_size") ?? d.PatchSize,
                InChannels = Int(root, "in_channels") ?? d.InChannels,
                Dim = Int(root, "hidden_size") ?? d.Dim,
                Layers = Int(root, "num_layers") ?? d.Layers,
                Heads = Int(root, "num_attention_heads") ?? d.Heads,
                KvHeads = Int(root, "num_kv_heads") ?? d.KvHeads,
                MultipleOf = Int(root, "multiple_of") ?? d.MultipleOf,
                FfnDimMultiplier = root["ffn_dim_multiplier"]?.GetValue<double>(),
                NormEps = root["norm_eps"]?.GetValue<double>() ?? d.NormEps,
                LearnSigma = root["learn_sigma"]?.GetValue<bool>() ?? d.LearnSigma,
                QkNorm = root["qk_norm"]?.GetValue<bool>() ?? d.QkNorm,
                CaptionDim = Int(root, "cross_attention_dim") ?? d.CaptionDim,
                ScaleFactor = root["scaling_factor"]?.GetValue<double>() ?? d.ScaleFactor,
                Video = root["video"]?.GetValue<bool>() ?? false,
            };
            config.Validate();
            return config;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
        {
            throw new LuminaException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The <c>sample_size</c> of a diffusers transformer <c>config.json</c>: the latent side at the training resolution
    /// (128 for the 1024-px Lumina-Next), or null when absent or unreadable.
    /// </summary>
    public static int? ReadSampleSize(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return (JsonNode.Parse(File.ReadAllText(path)) as JsonObject)?["sample_size"] is JsonValue v && v.TryGetValue<int>(out var n) && n > 0 ? n : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    /// <summary>Writes <paramref name="config"/> as a diffusers transformer <c>config.json</c>.</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="sampleSize">Latent side at the training resolution (128 for 1024-px models).</param>
    public static void Write(NextDiTConfig config, string path, int sampleSize = 128)
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
            ["num_attention_heads"] = config.Heads,
            ["num_kv_heads"] = config.KvHeads ?? config.Heads,
            ["multiple_of"] = config.MultipleOf,
            ["ffn_dim_multiplier"] = config.FfnDimMultiplier,
            ["norm_eps"] = config.NormEps,
            ["learn_sigma"] = config.LearnSigma,
            ["qk_norm"] = config.QkNorm,
            ["cross_attention_dim"] = config.CaptionDim,
            ["scaling_factor"] = config.ScaleFactor,
        };
        // Lumina.NET's own key: a video model (nextframe_token, 3-D RoPE). diffusers has no video Lumina class.
        if (config.Video) root["video"] = true;
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static int? Int(JsonObject root, string key) => root[key] is { } node ? node.GetValue<int>() : null;
}
