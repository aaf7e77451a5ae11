using System.Globalization;
using Lumina.Models.DiT;
using Lumina.Tensors;
using static TorchSharp.torch;

namespace Lumina.Checkpoints;

/// <summary>
/// Lumina-Image 2.0 checkpoints read from their headers alone, before any weight is allocated: the architecture a file
/// holds (<see cref="InferConfig"/>) and whether a given architecture matches it (<see cref="Check"/>). Works for the
/// three key layouts (upstream, diffusers, ComfyUI).
/// </summary>
public static class Lumina2HeaderCheck
{
    /// <summary>
    /// The key layout of a Lumina-Image 2.0 checkpoint with these tensor names, or null when they are not one. The context
    /// refiner (unmodulated blocks over the caption) is what no other Lumina DiT has.
    /// </summary>
    public static Lumina2CheckpointLayout? Recognize(IReadOnlyCollection<string> tensorNames)
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
            Layers = CountBlocks(byName.Keys, "layers."),
            RefinerLayers = CountBlocks(byName.Keys, "noise_refiner."),
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

    /// <summary>
    /// Throws unless <paramref name="tensors"/> (a checkpoint's header, any layout) holds exactly the tensors
    /// <paramref name="config"/> builds, with the same shapes. Nothing is allocated: the expected shapes come from the
    /// model built on the meta device.
    /// </summary>
    /// <param name="config">The architecture to check.</param>
    /// <param name="tensors">The checkpoint's tensor infos.</param>
    /// <param name="weightsPath">The checkpoint (named in the error).</param>
    /// <param name="configSource">Where <paramref name="config"/> came from (named in the error).</param>
    /// <exception cref="LuminaException">Keys are missing, left over or of another shape.</exception>
    public static void Check(Lumina2Config config, IReadOnlyCollection<SafetensorsTensorInfo> tensors, string weightsPath, string configSource)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensors);
        var layout = Lumina2KeyMap.DetectLayout(tensors.Select(t => t.Name));
        var header = tensors
            .Where(t => layout != Lumina2CheckpointLayout.ComfyUI || t.Name.StartsWith(Lumina2KeyMap.ComfyPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        var expected = ExpectedShapes(config, layout);
        var missing = expected.Keys.Where(k => !header.ContainsKey(k)).ToList();
        var unexpected = header.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var misshapen = expected.Where(e => header.TryGetValue(e.Key, out var s) && !s.SequenceEqual(e.Value))
            .Select(e => $"{e.Key} is [{string.Join(", ", header[e.Key])}] in the file but [{string.Join(", ", e.Value)}] in the config").ToList();
        if (missing.Count + unexpected.Count + misshapen.Count == 0) return;
        var parts = new List<string>();
        if (misshapen.Count > 0) parts.Add($"{misshapen.Count} of another shape ({string.Join("; ", misshapen.Take(3))})");
        if (missing.Count > 0) parts.Add($"{missing.Count} missing ({string.Join(", ", missing.Take(3))})");
        if (unexpected.Count > 0) parts.Add($"{unexpected.Count} not in the config ({string.Join(", ", unexpected.Take(3))})");
        throw new LuminaException(
            $"{configSource} (dim {config.Dim}, {config.Layers} layers, {config.Heads} heads / {config.KvHeadCount} KV, in {config.InChannels}, caption {config.CaptionDim}) " +
            $"does not describe '{weightsPath}' ({layout} layout): {string.Join(", ", parts)}. Use the architecture this checkpoint belongs to.");
    }

    /// <summary>The tensor names and shapes a checkpoint of <paramref name="config"/> has in <paramref name="layout"/>.</summary>
    public static IReadOnlyDictionary<string, long[]> ExpectedShapes(Lumina2Config config, Lumina2CheckpointLayout layout)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        using var model = new Lumina2Transformer(config, new Device("meta"));
        foreach (var (key, value) in model.state_dict())
        {
            switch (layout)
            {
                case Lumina2CheckpointLayout.Upstream:
                    shapes[key] = value.shape;
                    break;
                case Lumina2CheckpointLayout.ComfyUI:
                    shapes[Lumina2KeyMap.ToComfy(key)] = value.shape;
                    break;
                default:
                    foreach (var slice in Lumina2KeyMap.ToDiffusers(key, config))
                        shapes[slice.Key] = slice.IsWhole ? value.shape : [slice.Rows!.Value, .. value.shape.Skip(1)];
                    break;
            }
        }
        return shapes;
    }

    private static int CountBlocks(IEnumerable<string> names, string prefix)
    {
        var indices = new HashSet<int>();
        foreach (var name in names)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var end = name.IndexOf('.', prefix.Length);
            if (end > prefix.Length && int.TryParse(name.AsSpan(prefix.Length, end - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                indices.Add(i);
        }
        return indices.Count;
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
