using System.Text.RegularExpressions;
using Lumina.Checkpoints;
using static TorchSharp.torch;

namespace Lumina.Adapters;

/// <summary>
/// Where an adapter module lands in a model: the weight's key (upstream names, as the model's <c>state_dict()</c>
/// has them) and, for a diffusers module that is one part of a fused weight (<c>attn.to_q</c> of a fused
/// <c>attention.qkv</c>), the rows it covers.
/// </summary>
/// <param name="WeightKey">The model weight, e.g. <c>layers.0.attention.qkv.weight</c>.</param>
/// <param name="RowOffset">First row the update covers.</param>
/// <param name="Rows">Rows the update covers (the whole weight unless it is a slice).</param>
internal sealed record LoraTarget(string WeightKey, long RowOffset, long Rows);

/// <summary>
/// Resolves adapter module names against one model's weights, the way each reference does:
/// kohya names by the model's own module paths with '.' → '_' (as ComfyUI builds its key map), ComfyUI names by the
/// paths themselves, diffusers names through the family's diffusers layout (Lumina-Image 2.0: <c>attn.to_q/k/v</c>
/// are row blocks [q | k | v] of the fused <c>attention.qkv</c>; Lumina-Next: <see cref="NextDiTKeyMap"/>).
/// </summary>
internal sealed partial class LoraTargets
{
    private readonly IReadOnlyDictionary<string, Tensor> _weights;
    private readonly Dictionary<string, string> _kohya = new(StringComparer.Ordinal);

    /// <summary>Indexes <paramref name="weights"/> (a model's <c>state_dict()</c>, upstream key names).</summary>
    public LoraTargets(IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        _weights = weights;
        foreach (var (key, _) in weights)
            if (key.EndsWith(".weight", StringComparison.Ordinal))
                _kohya.TryAdd(key[..^".weight".Length].Replace('.', '_'), key);
    }

    /// <summary>The model's weights.</summary>
    public IReadOnlyDictionary<string, Tensor> Weights => _weights;

    /// <summary>The weight a module patches, or null when it patches nothing in this model.</summary>
    public LoraTarget? Resolve(LoraModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        string? key = module.Form switch
        {
            LoraKeyForm.Kohya => _kohya.GetValueOrDefault(module.Target),
            LoraKeyForm.Diffusers => null,
            _ => module.Target + ".weight",
        };
        if (module.Form == LoraKeyForm.Diffusers)
            return ResolveDiffusers(module.Target);
        return key is not null && _weights.TryGetValue(key, out var w) && w.dim() >= 2 ? new LoraTarget(key, 0, w.shape[0]) : null;
    }

    private LoraTarget? ResolveDiffusers(string path)
    {
        var qkv = FusedProjection().Match(path);
        if (qkv.Success && _weights.TryGetValue($"{qkv.Groups[1].Value}.attention.qkv.weight", out var fused) && fused.dim() == 2)
        {
            // [q | k | v] with q as wide as the input (heads · head_dim = dim) and k, v sharing the rest.
            var (rows, dim) = (fused.shape[0], fused.shape[1]);
            var kv = (rows - dim) / 2;
            if (kv <= 0 || dim + 2 * kv != rows) return null;
            var key = $"{qkv.Groups[1].Value}.attention.qkv.weight";
            return qkv.Groups[2].Value switch
            {
                "q" => new LoraTarget(key, 0, dim),
                "k" => new LoraTarget(key, dim, kv),
                _ => new LoraTarget(key, dim + kv, kv),
            };
        }
        foreach (var candidate in DiffusersCandidates(path))
            if (_weights.TryGetValue(candidate, out var w) && w.dim() >= 2)
                return new LoraTarget(candidate, 0, w.shape[0]);
        return null;
    }

    // diffusers module path → upstream weight keys to try (Lumina-Image 2.0 first, then Lumina-Next's key map).
    private static IEnumerable<string> DiffusersCandidates(string path)
    {
        var block = BlockPath().Match(path);
        if (block.Success)
        {
            var (prefix, rest) = (block.Groups[1].Value, block.Groups[2].Value);
            foreach (var (d, o) in Lumina2Block)
                if (rest == d) yield return $"{prefix}.{o}.weight";
        }
        foreach (var (d, o) in Lumina2Global)
            if (path == d) yield return $"{o}.weight";
        var next = NextDiTKeyMap.FromDiffusers(path + ".weight");
        if (next is not null) yield return next;
    }

    private static readonly (string Diffusers, string Upstream)[] Lumina2Block =
    [
        ("attn.to_out.0", "attention.out"),
        ("feed_forward.linear_1", "feed_forward.w1"),
        ("feed_forward.linear_2", "feed_forward.w2"),
        ("feed_forward.linear_3", "feed_forward.w3"),
        ("norm1.linear", "adaLN_modulation.1"),
    ];

    private static readonly (string Diffusers, string Upstream)[] Lumina2Global =
    [
        ("x_embedder", "x_embedder"),
        ("time_caption_embed.timestep_embedder.linear_1", "t_embedder.mlp.0"),
        ("time_caption_embed.timestep_embedder.linear_2", "t_embedder.mlp.2"),
        ("time_caption_embed.caption_embedder.1", "cap_embedder.1"),
        ("norm_out.linear_1", "final_layer.adaLN_modulation.1"),
        ("norm_out.linear_2", "final_layer.linear"),
    ];

    [GeneratedRegex(@"^(.+)\.attn\.to_(q|k|v)$")]
    private static partial Regex FusedProjection();

    [GeneratedRegex(@"^((?:layers|noise_refiner|context_refiner)\.\d+)\.(.+)$")]
    private static partial Regex BlockPath();
}
