using System.Text.RegularExpressions;
using Lumina.Models.DiT;

namespace Lumina.Checkpoints;

/// <summary>The key layouts a Lumina-Image 2.0 transformer checkpoint comes in.</summary>
public enum Lumina2CheckpointLayout
{
    /// <summary>Upstream's names (Alpha-VLLM/Lumina-Image-2.0 <c>NextDiT</c>): the module fields of <see cref="Lumina2Transformer"/>.</summary>
    Upstream = 0,

    /// <summary>
    /// diffusers' <c>Lumina2Transformer2DModel</c> (<c>Alpha-VLLM/Lumina-Image-2.0</c>'s <c>transformer/</c>): each
    /// <c>attention.qkv</c> split by rows into <c>attn.to_q/to_k/to_v</c>, other renames, no <c>norm_final</c>.
    /// </summary>
    Diffusers = 1,

    /// <summary>
    /// ComfyUI's single files (<c>Comfy-Org/Lumina_Image_2.0_Repackaged</c>): upstream names behind
    /// <c>model.diffusion_model.</c>; keys outside that prefix belong to other components (text encoder, VAE).
    /// </summary>
    ComfyUI = 2,
}

/// <summary>
/// Where a checkpoint tensor lives in <see cref="Lumina2Transformer"/>: the upstream key and, for diffusers' split
/// <c>to_q/to_k/to_v</c>, the rows of the fused <c>attention.qkv.weight</c> it fills.
/// </summary>
/// <param name="Key">The upstream (module) key.</param>
/// <param name="RowStart">First row of the model tensor this tensor covers (0 for whole tensors).</param>
/// <param name="Rows">Number of rows it covers; null = the whole model tensor.</param>
internal sealed record Lumina2KeySlice(string Key, long RowStart = 0, long? Rows = null)
{
    /// <summary>Whether the slice is the whole model tensor.</summary>
    public bool IsWhole => Rows is null;
}

/// <summary>
/// Maps Lumina-Image 2.0 checkpoint keys between upstream's names (the module fields of
/// <see cref="Lumina2Transformer"/>), diffusers' <c>Lumina2Transformer2DModel</c> names
/// (diffusers' <c>convert_lumina2_to_diffusers</c>) and ComfyUI's prefixed names.
/// </summary>
internal static partial class Lumina2KeyMap
{
    /// <summary>The prefix ComfyUI puts before the diffusion model's upstream keys.</summary>
    public const string ComfyPrefix = "model.diffusion_model.";

    private const string NormFinalKey = "norm_final.weight";

    private static readonly (string Diffusers, string Upstream)[] Global =
    [
        ("time_caption_embed.caption_embedder.", "cap_embedder."),
        ("time_caption_embed.timestep_embedder.linear_1.", "t_embedder.mlp.0."),
        ("time_caption_embed.timestep_embedder.linear_2.", "t_embedder.mlp.2."),
        ("norm_out.linear_1.", "final_layer.adaLN_modulation.1."),
        ("norm_out.linear_2.", "final_layer.linear."),
    ];

    // Inside {noise_refiner,context_refiner,layers}.{i}. Order matters: norm1.norm/norm1.linear before norm1.
    private static readonly (string Diffusers, string Upstream)[] PerBlock =
    [
        ("attn.to_out.0.", "attention.out."),
        ("attn.norm_q.", "attention.q_norm."),
        ("attn.norm_k.", "attention.k_norm."),
        ("feed_forward.linear_1.", "feed_forward.w1."),
        ("feed_forward.linear_2.", "feed_forward.w2."),
        ("feed_forward.linear_3.", "feed_forward.w3."),
        ("norm1.linear.", "adaLN_modulation.1."),
        ("norm1.norm.", "attention_norm1."),
        ("norm1.", "attention_norm1."), // the context refiner's blocks have no modulation: plain norm1
        ("norm2.", "attention_norm2."),
        ("ffn_norm1.", "ffn_norm1."),
        ("ffn_norm2.", "ffn_norm2."),
    ];

    private static readonly string[] QkvParts = ["to_q", "to_k", "to_v"];

    [GeneratedRegex(@"^(noise_refiner|context_refiner|layers)\.(\d+)\.(.+)$")]
    private static partial Regex BlockKey();

    /// <summary>
    /// The layout of a key set: <see cref="Lumina2CheckpointLayout.ComfyUI"/> when any key carries
    /// <see cref="ComfyPrefix"/>, <see cref="Lumina2CheckpointLayout.Diffusers"/> when it has diffusers' names
    /// (<c>time_caption_embed.*</c>, <c>*.attn.to_q.*</c>), else <see cref="Lumina2CheckpointLayout.Upstream"/>.
    /// </summary>
    public static Lumina2CheckpointLayout DetectLayout(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys as IReadOnlyCollection<string> ?? keys.ToList();
        if (list.Any(k => k.StartsWith(ComfyPrefix, StringComparison.Ordinal))) return Lumina2CheckpointLayout.ComfyUI;
        if (list.Any(k => k.StartsWith("time_caption_embed.", StringComparison.Ordinal) || k.Contains(".attn.to_q.", StringComparison.Ordinal)))
            return Lumina2CheckpointLayout.Diffusers;
        return Lumina2CheckpointLayout.Upstream;
    }

    /// <summary>
    /// A diffusers key → its place in the model. <c>attn.to_q/to_k/to_v.weight</c> map to row ranges of
    /// <c>attention.qkv.weight</c> (q rows [0, H·hd), k rows [H·hd, (H+KV)·hd), v after), which is why the
    /// configuration is needed. Unknown keys come back unchanged (whole), so a strict load reports them.
    /// </summary>
    public static Lumina2KeySlice FromDiffusers(string key, Lumina2Config config)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(config);
        foreach (var (d, u) in Global)
            if (key.StartsWith(d, StringComparison.Ordinal)) return new(u + key[d.Length..]);
        var m = BlockKey().Match(key);
        if (!m.Success) return new(key);
        var block = $"{m.Groups[1].Value}.{m.Groups[2].Value}.";
        var rest = m.Groups[3].Value;
        for (var part = 0; part < QkvParts.Length; part++)
        {
            var prefix = $"attn.{QkvParts[part]}.";
            if (rest.StartsWith(prefix, StringComparison.Ordinal))
            {
                var (start, rows) = QkvRows(config, part);
                return new($"{block}attention.qkv.{rest[prefix.Length..]}", start, rows);
            }
        }
        foreach (var (d, u) in PerBlock)
            if (rest.StartsWith(d, StringComparison.Ordinal)) return new(block + u + rest[d.Length..]);
        return new(key);
    }

    /// <summary>
    /// An upstream key → the diffusers tensors that hold it, each with the rows of the upstream tensor it takes
    /// (three for <c>attention.qkv.weight</c>, none for the unused <c>norm_final.weight</c>, which diffusers drops,
    /// one otherwise). Unknown keys come back unchanged.
    /// </summary>
    public static IReadOnlyList<Lumina2KeySlice> ToDiffusers(string key, Lumina2Config config)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(config);
        if (key == NormFinalKey) return [];
        foreach (var (d, u) in Global)
            if (key.StartsWith(u, StringComparison.Ordinal)) return [new(d + key[u.Length..])];
        var m = BlockKey().Match(key);
        if (!m.Success) return [new(key)];
        var kind = m.Groups[1].Value;
        var block = $"{kind}.{m.Groups[2].Value}.";
        var rest = m.Groups[3].Value;
        const string qkv = "attention.qkv.";
        if (rest.StartsWith(qkv, StringComparison.Ordinal))
        {
            var tail = rest[qkv.Length..];
            return QkvParts.Select((name, part) =>
            {
                var (start, rows) = QkvRows(config, part);
                return new Lumina2KeySlice($"{block}attn.{name}.{tail}", start, rows);
            }).ToList();
        }
        const string norm1 = "attention_norm1.";
        if (rest.StartsWith(norm1, StringComparison.Ordinal))
            return [new(block + (kind == "context_refiner" ? "norm1." : "norm1.norm.") + rest[norm1.Length..])];
        foreach (var (d, u) in PerBlock)
            if (rest.StartsWith(u, StringComparison.Ordinal)) return [new(block + d + rest[u.Length..])];
        return [new(key)];
    }

    /// <summary>A ComfyUI key → the upstream key; null for keys outside <see cref="ComfyPrefix"/> (other components).</summary>
    public static string? FromComfy(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.StartsWith(ComfyPrefix, StringComparison.Ordinal) ? key[ComfyPrefix.Length..] : null;
    }

    /// <summary>An upstream key → the ComfyUI key.</summary>
    public static string ToComfy(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ComfyPrefix + key;
    }

    // Rows of the fused qkv taken by part 0 (q: H·hd), 1 (k: KV·hd) or 2 (v: KV·hd).
    private static (long Start, long Rows) QkvRows(Lumina2Config config, int part)
    {
        long q = (long)config.Heads * config.HeadDim, kv = (long)config.KvHeadCount * config.HeadDim;
        return part switch { 0 => (0, q), 1 => (q, kv), _ => (q + kv, kv) };
    }
}
