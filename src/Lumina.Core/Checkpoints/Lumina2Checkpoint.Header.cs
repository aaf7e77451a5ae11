using System.Globalization;
using Lumina.Models.DiT;
using Lumina.Tensors;

namespace Lumina.Checkpoints;

// What a Lumina-Image 2.0 checkpoint's header alone tells, before any weight is read: whether it is one and in which
// key layout, and the architecture it holds, for single files that come without a config.
public static partial class Lumina2Checkpoint
{
    /// <summary>
    /// The key layout of a Lumina-Image 2.0 checkpoint with these tensor names, or null when they are not one. The context
    /// refiner (unmodulated blocks over the caption) is what no other Lumina DiT has.
    /// </summary>
    public static Lumina2CheckpointLayout? RecognizeLayout(IReadOnlyCollection<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        if (!tensorNames.Any(k => (Lumina2KeyMap.FromComfy(k) ?? k).StartsWith("context_refiner.", StringComparison.Ordinal))) return null;
        return Lumina2KeyMap.DetectLayout(tensorNames);
    }

    /// <summary>
    /// The architecture of the tensors in <paramref name="tensors"/> (any layout), read from their shapes: width,
    /// layers, refiner layers, heads and KV heads (from <c>q_norm</c> and <c>qkv</c>), FFN width, caption width, latent
    /// channels, and whether <c>norm_final</c> is present. What shapes cannot tell (patch size, RoPE axes and lengths,
    /// eps, θ) comes from <paramref name="defaults"/> (default <see cref="DiTPresets.Lumina2"/>); when the head width is
    /// not the preset's, the RoPE axes split it in three equal even parts.
    /// </summary>
    /// <exception cref="LuminaException">The tensors are not a Lumina-Image 2.0 transformer, or the axes cannot be derived.</exception>
    public static Lumina2Config InferConfig(IReadOnlyCollection<SafetensorsTensorInfo> tensors, string source, Lumina2Config? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(source);
        var d = defaults ?? DiTPresets.Lumina2;
        var byName = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        foreach (var t in tensors)
            byName[Lumina2KeyMap.FromComfy(t.Name) ?? t.Name] = t;
        SafetensorsTensorInfo Need(params string[] names) =>
            names.Select(n => byName.GetValueOrDefault(n)).FirstOrDefault(t => t is not null)
            ?? throw new LuminaException($"'{source}' has no {names[0]}; it is not a Lumina-Image 2.0 transformer checkpoint.");

        var embedder = Need("x_embedder.weight");
        var caption = Need("cap_embedder.1.weight", "time_caption_embed.caption_embedder.1.weight");
        var dim = (int)embedder.Shape[0];
        var patchInputs = embedder.Shape[1];
        var patch = d.PatchSize;
        if (patchInputs % (patch * patch) != 0)
            throw new LuminaException($"'{source}': x_embedder takes {patchInputs} inputs per patch, not a multiple of {patch}² (the patch size); pass the architecture explicitly.");
        var headDim = byName.TryGetValue("layers.0.attention.q_norm.weight", out var qn) || byName.TryGetValue("layers.0.attn.norm_q.weight", out qn)
            ? (int)qn.Shape[0]
            : d.HeadDim;
        if (headDim < 1 || dim % headDim != 0)
            throw new LuminaException($"'{source}': the q/k norm width {headDim} does not divide the model width {dim}.");
        var heads = dim / headDim;
        long kvRows;
        if (byName.TryGetValue("layers.0.attention.qkv.weight", out var qkv)) kvRows = (qkv.Shape[0] - (long)heads * headDim) / 2;
        else kvRows = Need("layers.0.attn.to_k.weight").Shape[0];
        var hidden = Need("layers.0.feed_forward.w1.weight", "layers.0.feed_forward.linear_1.weight").Shape[0];

        var axes = d.AxesDims;
        if (axes.Sum() != headDim)
        {
            if (headDim % 6 != 0)
                throw new LuminaException($"'{source}': head width {headDim} is not the preset's {d.HeadDim} and cannot be split into three even RoPE axes; pass the architecture explicitly.");
            axes = [headDim / 3, headDim / 3, headDim / 3];
        }

        var config = d with
        {
            Dim = dim,
            InChannels = (int)(patchInputs / (patch * patch)),
            Layers = BlockCount.Of(byName.Keys, "layers."),
            RefinerLayers = BlockCount.Of(byName.Keys, "noise_refiner."),
            Heads = heads,
            KvHeads = (int)(kvRows / headDim),
            CaptionDim = (int)caption.Shape[1],
            QkNorm = qn is not null,
            AxesDims = axes,
            NormFinal = byName.ContainsKey("norm_final.weight"),
        };
        config = config with { MultipleOf = MultipleOfFor(4L * dim, hidden, d.MultipleOf), FfnDimMultiplier = null };
        if (config.FfnHiddenDim != hidden)
            throw new LuminaException($"'{source}': FFN width {hidden} is not 4·{dim} rounded up to any multiple; pass the architecture explicitly.");
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new LuminaException($"'{source}': the shapes give an inconsistent architecture ({e.Message}); pass the architecture explicitly.", e);
        }
        return config;
    }

    // The multiple_of that rounds 4·dim up to the stored FFN width: the preset's when it does, else the largest power of
    // two that does (the value only matters through the width it gives).
    private static int MultipleOfFor(long width, long hidden, int preferred)
    {
        if (Nn.SwiGluFeedForward.RoundUp(width, preferred) == hidden) return preferred;
        for (var m = 1 << 12; m >= 1; m >>= 1)
            if (Nn.SwiGluFeedForward.RoundUp(width, m) == hidden) return m;
        return preferred;
    }
}
