using Lumina.Models.DiT;
using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Checkpoints;

/// <summary>What <see cref="Lumina2Checkpoint.Load(Lumina2Transformer, string, bool)"/> found and did.</summary>
/// <param name="Layout">The file's key layout; pass it to <see cref="Lumina2Checkpoint.Save"/> to write the same names back.</param>
/// <param name="Report">Loaded, missing, unexpected and skipped keys (in the model's upstream names).</param>
public sealed record Lumina2LoadResult(Lumina2CheckpointLayout Layout, CheckpointLoadReport Report);

/// <summary>
/// Loads and saves <see cref="Lumina2Transformer"/> weights in any of its three key layouts
/// (<see cref="Lumina2CheckpointLayout"/>): upstream, diffusers (split qkv) and ComfyUI single files.
/// </summary>
public static class Lumina2Checkpoint
{
    /// <summary>The key layout of a <c>.safetensors</c> file or sharded index, read from its header only.</summary>
    public static Lumina2CheckpointLayout DetectLayout(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var source = SafetensorsCheckpoint.Open(path);
        return Lumina2KeyMap.DetectLayout(source.Tensors.Select(t => t.Name));
    }

    /// <summary>
    /// Loads a <c>.safetensors</c> file or a sharded <c>*.safetensors.index.json</c> into <paramref name="model"/>,
    /// detecting the layout from the keys. Strict unless <paramref name="strict"/> is false: every model key must be
    /// present with its shape and no file key may be left over. Skipped on purpose: in a ComfyUI file, keys outside
    /// <c>model.diffusion_model.</c> (other components of an all-in-one file). A diffusers file fills each fused
    /// <c>attention.qkv.weight</c> from its <c>to_q/to_k/to_v</c> straight into the rows, with no extra copy; build
    /// the model with <see cref="Lumina2Config.NormFinal"/> false for it (diffusers has no <c>norm_final</c>), e.g.
    /// from <see cref="DiTPresets.Lumina2Diffusers"/>.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">A strict load found missing, unexpected or misshapen keys.</exception>
    public static Lumina2LoadResult Load(Lumina2Transformer model, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var source = SafetensorsCheckpoint.Open(path);
        return Load(model, source, strict);
    }

    /// <summary>
    /// Loads <paramref name="model"/> from an open tensor source (a safetensors file or shard set, or any other
    /// <see cref="ITensorSource"/>), detecting the layout from its names, as <see cref="Load(Lumina2Transformer, string, bool)"/>
    /// does. The source stays open; the caller disposes it.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">A strict load found missing, unexpected or misshapen keys.</exception>
    public static Lumina2LoadResult Load(Lumina2Transformer model, ITensorSource source, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        var layout = Lumina2KeyMap.DetectLayout(source.Tensors.Select(t => t.Name));
        var options = new CheckpointLoadOptions { Strict = strict, KeyMap = layout == Lumina2CheckpointLayout.ComfyUI ? Lumina2KeyMap.FromComfy : null };
        if (layout != Lumina2CheckpointLayout.Diffusers)
            return new(layout, model.LoadTensors(source, options));
        using var fused = new FusedQkvSource(source, model.Config);
        return new(layout, model.LoadTensors(fused, options));
    }

    /// <summary>
    /// Writes <paramref name="model"/> as one safetensors file in <paramref name="layout"/>: upstream names, diffusers
    /// names (qkv split into <c>to_q/to_k/to_v</c>, <c>norm_final</c> dropped) or ComfyUI's prefixed names.
    /// </summary>
    public static void Save(Lumina2Transformer model, string path, Lumina2CheckpointLayout layout = Lumina2CheckpointLayout.Upstream,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var entries = new List<KeyValuePair<string, torch.Tensor>>();
        foreach (var (key, value) in model.state_dict())
        {
            switch (layout)
            {
                case Lumina2CheckpointLayout.Upstream:
                    entries.Add(new(key, value));
                    break;
                case Lumina2CheckpointLayout.ComfyUI:
                    entries.Add(new(Lumina2KeyMap.ToComfy(key), value));
                    break;
                case Lumina2CheckpointLayout.Diffusers:
                    foreach (var slice in Lumina2KeyMap.ToDiffusers(key, model.Config))
                        entries.Add(new(slice.Key, slice.IsWhole ? value : value.narrow(0, slice.RowStart, slice.Rows!.Value)));
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown Lumina-Image 2.0 checkpoint layout.");
            }
        }
        SafetensorsWriter.Write(path, entries, metadata);
    }

    // A diffusers checkpoint seen with upstream names: each complete to_q/to_k/to_v triple appears as one fused
    // attention.qkv tensor that is read part by part into its rows. Incomplete triples keep their diffusers names
    // (so a strict load reports them); unknown keys pass through unchanged.
    private sealed class FusedQkvSource : ITensorSource
    {
        private readonly ITensorSource inner;
        private readonly Dictionary<string, (string Name, long RowStart)[]> fusedParts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> renamed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SafetensorsTensorInfo> infos = new(StringComparer.Ordinal);

        public FusedQkvSource(ITensorSource inner, Lumina2Config config)
        {
            this.inner = inner;
            var groups = new Dictionary<string, List<(SafetensorsTensorInfo Info, Lumina2KeySlice Slice)>>(StringComparer.Ordinal);
            var list = new List<SafetensorsTensorInfo>();
            foreach (var info in inner.Tensors)
            {
                var slice = Lumina2KeyMap.FromDiffusers(info.Name, config);
                if (slice.IsWhole)
                {
                    renamed[slice.Key] = info.Name;
                    var mapped = info with { Name = slice.Key };
                    infos[slice.Key] = mapped;
                    list.Add(mapped);
                    continue;
                }
                if (!groups.TryGetValue(slice.Key, out var parts)) groups[slice.Key] = parts = [];
                parts.Add((info, slice));
            }
            foreach (var (key, parts) in groups)
            {
                var ordered = parts.OrderBy(p => p.Slice.RowStart).ToList();
                var contiguous = ordered.Count == 3 && ordered[0].Slice.RowStart == 0
                    && ordered.Zip(ordered.Skip(1)).All(pair => pair.First.Slice.RowStart + pair.First.Slice.Rows == pair.Second.Slice.RowStart)
                    && ordered.All(p => p.Info.Shape.Count == 2 && p.Info.Shape[0] == p.Slice.Rows && p.Info.Shape[1] == ordered[0].Info.Shape[1]);
                if (!contiguous)
                {
                    foreach (var (info, _) in parts)
                    {
                        renamed[info.Name] = info.Name;
                        infos[info.Name] = info;
                        list.Add(info);
                    }
                    continue;
                }
                var rows = ordered.Sum(p => p.Info.Shape[0]);
                var fused = new SafetensorsTensorInfo(key, ordered[0].Info.DType, [rows, ordered[0].Info.Shape[1]], 0, ordered.Sum(p => p.Info.ByteLength));
                fusedParts[key] = ordered.Select(p => (p.Info.Name, p.Slice.RowStart)).ToArray();
                infos[key] = fused;
                list.Add(fused);
            }
            Tensors = list;
        }

        public string SourcePath => inner.SourcePath;

        public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

        public bool TryGetInfo(string name, out SafetensorsTensorInfo info) => infos.TryGetValue(name, out info!);

        public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
        {
            if (renamed.TryGetValue(name, out var original)) return inner.Read(original, dtype, device);
            if (!infos.TryGetValue(name, out var info)) throw new KeyNotFoundException($"Checkpoint '{SourcePath}' has no tensor named '{name}'.");
            var result = torch.empty(info.ShapeArray(), dtype ?? info.DType.ToScalarType(), device);
            ReadInto(name, result);
            return result;
        }

        public void ReadInto(string name, torch.Tensor destination)
        {
            if (renamed.TryGetValue(name, out var original))
            {
                inner.ReadInto(original, destination);
                return;
            }
            if (!fusedParts.TryGetValue(name, out var parts)) throw new KeyNotFoundException($"Checkpoint '{SourcePath}' has no tensor named '{name}'.");
            if (destination.dim() != 2 || destination.shape[0] != infos[name].Shape[0] || destination.shape[1] != infos[name].Shape[1])
                throw new ArgumentException($"Tensor '{name}' in '{SourcePath}' is [{string.Join(", ", infos[name].Shape)}] but the destination is [{string.Join(", ", destination.shape)}].", nameof(destination));
            foreach (var (part, rowStart) in parts)
            {
                inner.TryGetInfo(part, out var info);
                using var rows = destination.narrow(0, rowStart, info.Shape[0]);
                inner.ReadInto(part, rows);
            }
        }

        public void Dispose()
        {
            // The inner source belongs to the caller.
        }
    }
}
