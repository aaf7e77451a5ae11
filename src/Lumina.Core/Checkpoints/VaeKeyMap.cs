using System.Text.RegularExpressions;

namespace Lumina.Checkpoints;

/// <summary>
/// Maps 2-D VAE checkpoint keys from the original LDM / FLUX layout (the layout of FLUX's and ComfyUI's
/// <c>ae.safetensors</c>, and of the <c>first_stage_model.*</c> part of single-file checkpoints) to the diffusers
/// <c>AutoencoderKL</c> layout that <see cref="Models.Autoencoders.AutoencoderKL"/> is named after.
/// <para>The LDM layout counts decoder up blocks from the lowest resolution upwards (<c>decoder.up.{n−1}</c> is
/// diffusers' <c>decoder.up_blocks.0</c>), names a resnet's shortcut <c>nin_shortcut</c>, the mid block
/// <c>mid.block_1</c>/<c>mid.attn_1</c>/<c>mid.block_2</c>, and stores the mid-block attention projections
/// <c>q</c>/<c>k</c>/<c>v</c>/<c>proj_out</c> as 1×1 convolutions (see <see cref="VaeCheckpointSource"/> for the reshape).</para>
/// </summary>
internal static partial class VaeKeyMap
{
    /// <summary>Prefixes that single-file checkpoints put in front of the VAE's own keys; stripped on load.</summary>
    public static IReadOnlyList<string> SingleFilePrefixes { get; } = ["first_stage_model.", "vae."];

    [GeneratedRegex(@"^(encoder|decoder)\.(down|up)\.(\d+)\.(block\.(\d+)|downsample|upsample)\.(.+)$")]
    private static partial Regex LevelKey();

    [GeneratedRegex(@"^(encoder|decoder)\.mid\.(block_1|block_2|attn_1)\.(.+)$")]
    private static partial Regex MidKey();

    /// <summary>True when a key set is in the LDM / FLUX layout (it has an <c>encoder.down.</c>, <c>decoder.up.</c>
    /// or <c>.mid.</c> key, after stripping a <see cref="SingleFilePrefixes"/> prefix).</summary>
    /// <param name="keys">The checkpoint's keys.</param>
    public static bool IsLdmLayout(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys.Select(StripPrefix).Any(k =>
            k.StartsWith("encoder.down.", StringComparison.Ordinal) || k.StartsWith("decoder.up.", StringComparison.Ordinal) ||
            k.StartsWith("encoder.mid.", StringComparison.Ordinal) || k.StartsWith("decoder.mid.", StringComparison.Ordinal));
    }

    /// <summary>Removes one leading <see cref="SingleFilePrefixes"/> prefix, if present.</summary>
    /// <param name="key">A checkpoint key.</param>
    public static string StripPrefix(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var prefix in SingleFilePrefixes)
            if (key.StartsWith(prefix, StringComparison.Ordinal)) return key[prefix.Length..];
        return key;
    }

    /// <summary>True for the LDM keys of the mid-block attention projections, which are 1×1 convolutions there and
    /// linear layers in diffusers.</summary>
    /// <param name="ldmKey">A key in the LDM layout (prefix already stripped).</param>
    public static bool IsConvAttentionProjection(string ldmKey)
    {
        ArgumentNullException.ThrowIfNull(ldmKey);
        var m = MidKey().Match(ldmKey);
        return m.Success && m.Groups[2].Value == "attn_1" && m.Groups[3].Value is "q.weight" or "k.weight" or "v.weight" or "proj_out.weight";
    }

    /// <summary>
    /// LDM key → diffusers key, for a VAE with <paramref name="blocks"/> resolution levels (the length of
    /// <c>block_out_channels</c>; 4 for the SDXL and FLUX VAEs). A leading <see cref="SingleFilePrefixes"/> prefix is
    /// stripped. Keys that are not LDM VAE keys come back (prefix stripped) unchanged, so a strict load reports them.
    /// </summary>
    /// <param name="key">The key as stored in the file.</param>
    /// <param name="blocks">Resolution levels of the VAE.</param>
    public static string FromLdm(string key, int blocks)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        key = StripPrefix(key);
        var level = LevelKey().Match(key);
        if (level.Success)
        {
            var part = level.Groups[1].Value;
            var index = int.Parse(level.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            var rest = level.Groups[6].Value;
            var encoder = level.Groups[2].Value == "down";
            // The LDM decoder counts its levels from the latent (lowest) resolution; diffusers from the first up block.
            var blockIndex = encoder ? index : blocks - 1 - index;
            var list = encoder ? "down_blocks" : "up_blocks";
            var inner = level.Groups[4].Value switch
            {
                "downsample" => "downsamplers.0",
                "upsample" => "upsamplers.0",
                _ => $"resnets.{level.Groups[5].Value}",
            };
            return $"{part}.{list}.{blockIndex}.{inner}.{Resnet(rest)}";
        }
        var mid = MidKey().Match(key);
        if (mid.Success)
        {
            var part = mid.Groups[1].Value;
            var rest = mid.Groups[3].Value;
            return mid.Groups[2].Value switch
            {
                "block_1" => $"{part}.mid_block.resnets.0.{Resnet(rest)}",
                "block_2" => $"{part}.mid_block.resnets.1.{Resnet(rest)}",
                _ => $"{part}.mid_block.attentions.0.{Attention(rest)}",
            };
        }
        if (key.StartsWith("encoder.norm_out.", StringComparison.Ordinal)) return "encoder.conv_norm_out." + key["encoder.norm_out.".Length..];
        if (key.StartsWith("decoder.norm_out.", StringComparison.Ordinal)) return "decoder.conv_norm_out." + key["decoder.norm_out.".Length..];
        return key;
    }

    private static string Resnet(string rest) =>
        rest.StartsWith("nin_shortcut.", StringComparison.Ordinal) ? "conv_shortcut." + rest["nin_shortcut.".Length..] : rest;

    private static string Attention(string rest)
    {
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        var (name, tail) = dot < 0 ? (rest, "") : (rest[..dot], rest[dot..]);
        return name switch
        {
            "norm" => "group_norm",
            "q" => "to_q",
            "k" => "to_k",
            "v" => "to_v",
            "proj_out" => "to_out.0",
            _ => name,
        } + tail;
    }
}
