using System.Text.RegularExpressions;

namespace Lumina.Checkpoints;

/// <summary>
/// Maps Next-DiT checkpoint keys between the original Lumina layout (<c>consolidated*.safetensors</c>, the module
/// field names of <see cref="Models.DiT.NextDiT"/>) and the diffusers <c>LuminaNextDiT2DModel</c> layout
/// (<c>transformer/diffusion_pytorch_model*.safetensors</c>, e.g. <c>Alpha-VLLM/Lumina-Next-SFT-diffusers</c>).
/// <para>diffusers stores the query projection and query norm twice (<c>attn1.to_q</c>/<c>attn2.to_q</c>,
/// <c>attn1.norm_q</c>/<c>attn2.norm_q</c>) because its self- and cross-attention share them. Loading reads the
/// <c>attn1</c> copy and skips the <c>attn2</c> copy; writing emits both.</para>
/// </summary>
internal static partial class NextDiTKeyMap
{
    private static readonly (string Diffusers, string Original)[] Global =
    [
        ("patch_embedder.proj.", "x_embedder."),
        ("time_caption_embed.timestep_embedder.linear_1.", "t_embedder.mlp.0."),
        ("time_caption_embed.timestep_embedder.linear_2.", "t_embedder.mlp.2."),
        ("time_caption_embed.caption_embedder.", "cap_embedder."),
        ("norm_out.linear_1.", "final_layer.adaLN_modulation.1."),
        ("norm_out.linear_2.", "final_layer.linear."),
    ];

    // Inside layers.{i}.  The attn2 query copies map to null (skipped on load).
    private static readonly (string Diffusers, string? Original)[] PerLayer =
    [
        ("attn1.to_q.", "attention.wq."),
        ("attn1.to_k.", "attention.wk."),
        ("attn1.to_v.", "attention.wv."),
        ("attn2.to_q.", null),
        ("attn2.to_k.", "attention.wk_y."),
        ("attn2.to_v.", "attention.wv_y."),
        ("attn2.to_out.0.", "attention.wo."),
        ("attn1.norm_q.", "attention.q_norm."),
        ("attn1.norm_k.", "attention.k_norm."),
        ("attn2.norm_q.", null),
        ("attn2.norm_k.", "attention.ky_norm."),
        ("norm1.linear.", "adaLN_modulation.1."),
        ("norm1.norm.", "attention_norm1."),
        ("norm2.", "attention_norm2."),
        ("ffn_norm1.", "ffn_norm1."),
        ("ffn_norm2.", "ffn_norm2."),
        ("norm1_context.", "attention_y_norm."),
        ("feed_forward.linear_1.", "feed_forward.w1."),
        ("feed_forward.linear_2.", "feed_forward.w2."),
        ("feed_forward.linear_3.", "feed_forward.w3."),
    ];

    [GeneratedRegex(@"^layers\.(\d+)\.(.+)$")]
    private static partial Regex LayerKey();


    /// <summary>
    /// diffusers key → original key; null for the duplicated <c>attn2</c> query weights (skip them). Unknown keys are
    /// returned unchanged, so a strict load reports them as unexpected.
    /// </summary>
    public static string? FromDiffusers(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key == "pad_token") return key;
        foreach (var (d, o) in Global)
            if (key.StartsWith(d, StringComparison.Ordinal)) return o + key[d.Length..];
        var m = LayerKey().Match(key);
        if (m.Success)
        {
            var rest = m.Groups[2].Value;
            if (rest == "gate") return $"layers.{m.Groups[1].Value}.attention.gate";
            foreach (var (d, o) in PerLayer)
                if (rest.StartsWith(d, StringComparison.Ordinal))
                    return o is null ? null : $"layers.{m.Groups[1].Value}.{o}{rest[d.Length..]}";
        }
        return key;
    }

    /// <summary>
    /// Original key → every diffusers key that holds it (two for <c>attention.wq</c> and <c>attention.q_norm</c>,
    /// one otherwise). Unknown keys are returned unchanged.
    /// </summary>
    public static IReadOnlyList<string> ToDiffusers(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key == "pad_token") return [key];
        foreach (var (d, o) in Global)
            if (key.StartsWith(o, StringComparison.Ordinal)) return [d + key[o.Length..]];
        var m = LayerKey().Match(key);
        if (m.Success)
        {
            var layer = m.Groups[1].Value;
            var rest = m.Groups[2].Value;
            if (rest == "attention.gate") return [$"layers.{layer}.gate"];
            if (rest.StartsWith("attention.wq.", StringComparison.Ordinal))
            {
                var tail = rest["attention.wq.".Length..];
                return [$"layers.{layer}.attn1.to_q.{tail}", $"layers.{layer}.attn2.to_q.{tail}"];
            }
            if (rest.StartsWith("attention.q_norm.", StringComparison.Ordinal))
            {
                var tail = rest["attention.q_norm.".Length..];
                return [$"layers.{layer}.attn1.norm_q.{tail}", $"layers.{layer}.attn2.norm_q.{tail}"];
            }
            foreach (var (d, o) in PerLayer)
                if (o is not null && rest.StartsWith(o, StringComparison.Ordinal))
                    return [$"layers.{layer}.{d}{rest[o.Length..]}"];
        }
        return [key];
    }
}
