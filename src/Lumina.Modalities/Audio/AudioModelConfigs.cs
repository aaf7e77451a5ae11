using System.Text.Json;
using System.Text.Json.Nodes;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;

namespace Lumina.Audio;

/// <summary>
/// The <c>config.json</c> files of a text-to-audio folder, named like upstream's constructor arguments: the music DiT
/// (<c>in_channels</c>, <c>context_dim</c>, <c>hidden_size</c>, <c>depth</c>, <c>num_heads</c>, <c>max_len</c>,
/// <c>multiple_of</c>, <c>norm_eps</c>) and the
/// 1-D VAE (<c>embed_dim</c>, <c>scale_factor</c> and upstream's <c>ddconfig</c>). Upstream keeps these in YAML next to
/// pickled checkpoints, which we never read.
/// </summary>
internal static class AudioModelConfigs
{
    /// <summary>Reads a music-DiT config.</summary>
    public static MusicDiTConfig ReadTransformer(string path)
    {
        var root = Read(path);
        var d = new MusicDiTConfig();
        var config = new MusicDiTConfig
        {
            InChannels = Int(root, "in_channels", path) ?? d.InChannels,
            CaptionDim = Int(root, "context_dim", path) ?? d.CaptionDim,
            Dim = Int(root, "hidden_size", path) ?? d.Dim,
            Layers = Int(root, "depth", path) ?? d.Layers,
            Heads = Int(root, "num_heads", path) ?? d.Heads,
            MaxLength = Int(root, "max_len", path) ?? d.MaxLength,
            MultipleOf = Int(root, "multiple_of", path) ?? d.MultipleOf,
            NormEps = root["norm_eps"] is { } eps ? eps.GetValue<double>() : d.NormEps,
        };
        Check(config.Validate, path);
        return config;
    }

    /// <summary>Writes a music-DiT config.</summary>
    public static void WriteTransformer(MusicDiTConfig config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        File.WriteAllText(path, new JsonObject
        {
            ["in_channels"] = config.InChannels, ["context_dim"] = config.CaptionDim, ["hidden_size"] = config.Dim,
            ["depth"] = config.Layers, ["num_heads"] = config.Heads, ["max_len"] = config.MaxLength,
            ["multiple_of"] = config.MultipleOf, ["norm_eps"] = config.NormEps,
        }.ToJsonString());
    }

    /// <summary>Reads a 1-D VAE config; returns it with the latent <c>scale_factor</c> (default 1).</summary>
    public static (AutoencoderKL1DConfig Config, double ScaleFactor) ReadVae(string path)
    {
        var root = Read(path);
        var dd = root["ddconfig"] as JsonObject ?? throw new LuminaException($"{path}: missing the 'ddconfig' object.");
        var d = new AutoencoderKL1DConfig();
        var config = new AutoencoderKL1DConfig
        {
            EmbedDim = Int(root, "embed_dim", path) ?? d.EmbedDim,
            InChannels = Int(dd, "in_channels", path) ?? d.InChannels,
            OutChannels = Int(dd, "out_ch", path) ?? d.OutChannels,
            ZChannels = Int(dd, "z_channels", path) ?? d.ZChannels,
            KernelSize = Int(dd, "kernel_size", path) ?? d.KernelSize,
            Channels = Int(dd, "ch", path) ?? d.Channels,
            ChannelMultipliers = Ints(dd, "ch_mult", path) ?? d.ChannelMultipliers,
            NumResBlocks = Int(dd, "num_res_blocks", path) ?? d.NumResBlocks,
            AttentionLevels = Ints(dd, "attn_layers", path) ?? d.AttentionLevels,
            DownsampleLevels = Ints(dd, "down_layers", path) ?? d.DownsampleLevels,
        };
        Check(config.Validate, path);
        var scale = root["scale_factor"] is { } s ? s.GetValue<double>() : 1.0;
        return (config, scale);
    }

    /// <summary>Writes a 1-D VAE config.</summary>
    public static void WriteVae(AutoencoderKL1DConfig config, double scaleFactor, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        static JsonArray Arr(IEnumerable<int> v) => new(v.Select(i => (JsonNode)i).ToArray());
        File.WriteAllText(path, new JsonObject
        {
            ["embed_dim"] = config.EmbedDim,
            ["scale_factor"] = scaleFactor,
            ["ddconfig"] = new JsonObject
            {
                ["double_z"] = true, ["in_channels"] = config.InChannels, ["out_ch"] = config.OutChannels, ["z_channels"] = config.ZChannels,
                ["kernel_size"] = config.KernelSize, ["ch"] = config.Channels, ["ch_mult"] = Arr(config.ChannelMultipliers),
                ["num_res_blocks"] = config.NumResBlocks, ["attn_layers"] = Arr(config.AttentionLevels), ["down_layers"] = Arr(config.DownsampleLevels),
            },
        }.ToJsonString());
    }

    private static JsonObject Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No config at '{path}'.", path);
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new LuminaException($"{path}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new LuminaException($"{path} is not valid JSON ({e.Message}).", e);
        }
    }

    private static void Check(Action validate, string path)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            throw new LuminaException($"{path}: {e.Message}", e);
        }
    }

    private static int? Int(JsonObject o, string key, string path)
    {
        try
        {
            return o[key] is { } n ? n.GetValue<int>() : null;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new LuminaException($"{path}: '{key}' must be an integer.", e);
        }
    }

    private static int[]? Ints(JsonObject o, string key, string path)
    {
        try
        {
            return o[key] is JsonArray a ? a.Select(n => n!.GetValue<int>()).ToArray() : null;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new LuminaException($"{path}: '{key}' must be a list of integers.", e);
        }
    }
}
