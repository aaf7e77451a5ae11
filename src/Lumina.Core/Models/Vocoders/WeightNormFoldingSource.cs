using Lumina.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// Presents a checkpoint saved with weight normalisation as plain weights: every pair <c>X.weight_g</c> /
/// <c>X.weight_v</c> (or the newer <c>X.parametrizations.weight.original0</c> / <c>original1</c>) appears as one
/// tensor <c>X.weight = g · v / ‖v‖</c>, the norm taken over all dims but the first (PyTorch's <c>weight_norm</c>
/// with dim 0). Other tensors pass through. The folding happens when a weight is read, in float32.
/// </summary>
internal sealed class WeightNormFoldingSource : ITensorSource
{
    private readonly ITensorSource _inner;
    private readonly bool _ownsInner;
    private readonly Dictionary<string, (string G, string V)> _folded = new(StringComparer.Ordinal);
    private readonly List<SafetensorsTensorInfo> _tensors = [];
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName = new(StringComparer.Ordinal);

    /// <summary>Wraps a source.</summary>
    /// <param name="inner">The checkpoint with weight-norm pairs.</param>
    /// <param name="ownsInner">Whether disposing this disposes <paramref name="inner"/>.</param>
    /// <exception cref="SafetensorsException">A <c>g</c> has no <c>v</c> (or the other way round), or their shapes disagree.</exception>
    public WeightNormFoldingSource(ITensorSource inner, bool ownsInner = true)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _ownsInner = ownsInner;
        var names = inner.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var info in inner.Tensors)
        {
            if (Pair(info.Name) is not { } pair) continue;
            var (target, g, v) = pair;
            if (!names.Contains(g) || !names.Contains(v))
                throw new SafetensorsException(inner.SourcePath, $"weight-norm tensor '{info.Name}' has no partner ('{g}' and '{v}' must both be present).");
            if (!_folded.TryAdd(target, (g, v))) continue;
            consumed.Add(g);
            consumed.Add(v);
        }
        foreach (var info in inner.Tensors)
        {
            if (consumed.Contains(info.Name))
            {
                if (Pair(info.Name) is { } p && p.V == info.Name)
                {
                    inner.TryGetInfo(p.G, out var g);
                    if (g.Shape.Count != info.Shape.Count || g.Shape[0] != info.Shape[0] || g.Shape.Skip(1).Any(d => d != 1))
                        throw new SafetensorsException(inner.SourcePath, $"'{p.G}' has shape [{string.Join(", ", g.Shape)}], which does not match '{p.V}' [{string.Join(", ", info.Shape)}] for a dim-0 weight norm.");
                    Add(info with { Name = p.Target });
                }
                continue;
            }
            Add(info);
        }
    }

    /// <summary>Opens a safetensors checkpoint (file, index or folder) and folds its weight-norm pairs.</summary>
    public static WeightNormFoldingSource Open(string path) => new(SafetensorsCheckpoint.Open(path));

    /// <summary>Weights that were folded from a g/v pair, by their module key.</summary>
    public IReadOnlyCollection<string> FoldedWeights => _folded.Keys;

    /// <inheritdoc />
    public string SourcePath => _inner.SourcePath;

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _tensors;

    /// <inheritdoc />
    public bool TryGetInfo(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <inheritdoc />
    public Tensor Read(string name, ScalarType? dtype = null, Device? device = null)
    {
        if (!_folded.TryGetValue(name, out var pair)) return _inner.Read(name, dtype, device);
        using var scope = NewDisposeScope();
        var g = _inner.Read(pair.G, ScalarType.Float32, device);
        var v = _inner.Read(pair.V, ScalarType.Float32, device);
        var dims = Enumerable.Range(1, (int)v.dim() - 1).Select(d => (long)d).ToArray();
        var norm = dims.Length == 0 ? v.abs() : linalg.vector_norm(v, 2, dims, keepdim: true);
        var weight = v.mul(g.div(norm));
        var wanted = dtype ?? _byName[name].DType.ToScalarType();
        return weight.to(wanted).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsInner) _inner.Dispose();
    }

    private void Add(SafetensorsTensorInfo info)
    {
        _tensors.Add(info);
        _byName[info.Name] = info;
    }

    private static (string Target, string G, string V)? Pair(string name)
    {
        foreach (var (gSuffix, vSuffix, target) in Suffixes)
        {
            if (name.EndsWith(gSuffix, StringComparison.Ordinal))
            {
                var stem = name[..^gSuffix.Length];
                return (stem + target, name, stem + vSuffix);
            }
            if (name.EndsWith(vSuffix, StringComparison.Ordinal))
            {
                var stem = name[..^vSuffix.Length];
                return (stem + target, stem + gSuffix, name);
            }
        }
        return null;
    }

    private static readonly (string G, string V, string Target)[] Suffixes =
    [
        (".weight_g", ".weight_v", ".weight"),
        (".parametrizations.weight.original0", ".parametrizations.weight.original1", ".weight"),
    ];
}
