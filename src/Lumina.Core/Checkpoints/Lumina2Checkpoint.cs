using Lumina.Models.DiT;
using Lumina.Nn;
using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Checkpoints;

/// <summary>
/// Loads and saves <see cref="Lumina2Transformer"/> weights in any of its three key layouts
/// (<see cref="Lumina2CheckpointLayout"/>): upstream, diffusers (split qkv) and ComfyUI single files; as
/// <c>.safetensors</c> (or a sharded index) or as GGUF (ComfyUI-GGUF's <c>lumina2</c> files: F32, F16, BF16 and every
/// block type <see cref="GgmlDequantizer"/> decodes).
/// </summary>
/// <remarks>
/// A <c>.gguf</c> file must say <c>general.architecture = lumina2</c>. Its tensor names are upstream's (a leading
/// <c>model.diffusion_model.</c> is stripped, as ComfyUI-GGUF does), its torch shapes are <c>reversed(ne)</c> or
/// <c>comfy.gguf.orig_shape.*</c>, and block types are dequantized in float32 (bit for bit as gguf-py; not in
/// ComfyUI-GGUF's default float16, which is about 1e-3 off in the forward), then cast to the model's dtype.
/// </remarks>
public static partial class Lumina2Checkpoint
{
    /// <summary>The <c>general.architecture</c> of a Lumina-Image 2.0 GGUF file.</summary>
    public const string GgufArchitecture = "lumina2";

    /// <summary>Whether <paramref name="path"/> names a GGUF file (by its <c>.gguf</c> extension).</summary>
    public static bool IsGguf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The key layout of a <c>.safetensors</c> file, a sharded index or a <c>.gguf</c> file, read from its header only.
    /// </summary>
    /// <exception cref="GgufException">A GGUF file is malformed or not a <c>lumina2</c> model.</exception>
    public static Lumina2CheckpointLayout DetectLayout(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var source = Open(path);
        return Lumina2KeyMap.DetectLayout(source.Tensors.Select(t => t.Name));
    }

    /// <summary>
    /// Opens a Lumina-Image 2.0 GGUF file and checks that its <c>general.architecture</c> is <c>lumina2</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufException">The file is malformed or holds another architecture.</exception>
    public static GgufFile OpenGguf(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = GgufFile.Open(path);
        if (file.Architecture != GgufArchitecture)
        {
            file.Dispose();
            throw new GgufException(path, file.Architecture is null
                ? $"the file has no general.architecture; a Lumina-Image 2.0 GGUF (as ComfyUI-GGUF writes it) says '{GgufArchitecture}'."
                : $"general.architecture is '{SafetensorsHeader.Shorten(file.Architecture)}', not '{GgufArchitecture}': this is not a Lumina-Image 2.0 transformer.");
        }
        return file;
    }

    /// <summary>
    /// Loads a <c>.safetensors</c> file, a sharded <c>*.safetensors.index.json</c> or a <c>.gguf</c> file into
    /// <paramref name="model"/>, detecting the layout from the keys; GGUF block types are dequantized at load (see
    /// <see cref="Load(Lumina2Transformer, string, QuantizedWeightsMode, bool)"/> to keep them quantized). Strict unless
    /// <paramref name="strict"/> is false: every model key must be present with its shape and no file key may be left
    /// over. Skipped on purpose: in a ComfyUI file, keys outside <c>model.diffusion_model.</c> (other components of an
    /// all-in-one file). A diffusers file fills each fused <c>attention.qkv.weight</c> from its <c>to_q/to_k/to_v</c>
    /// straight into the rows, with no extra copy; build the model with <see cref="Lumina2Config.NormFinal"/> false for
    /// it (diffusers has no <c>norm_final</c>), e.g. from <see cref="DiTPresets.Lumina2Diffusers"/>.
    /// </summary>
    /// <returns>
    /// What it found and did: the file's key <c>Layout</c> (pass it to <see cref="Save"/> to write the same names back)
    /// and the <c>Report</c> of loaded, missing, unexpected and skipped keys (in the model's upstream names).
    /// </returns>
    /// <exception cref="CheckpointMismatchException">A strict load found missing, unexpected or misshapen keys.</exception>
    /// <exception cref="GgufException">A GGUF file is malformed, not <c>lumina2</c>, or holds a type Lumina cannot dequantize.</exception>
    public static (Lumina2CheckpointLayout Layout, CheckpointLoadReport Report) Load(Lumina2Transformer model, string path, bool strict = true) =>
        Load(model, path, QuantizedWeightsMode.DequantizeAtLoad, strict);

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> as <see cref="Load(Lumina2Transformer, string, bool)"/> does;
    /// with <see cref="QuantizedWeightsMode.KeepQuantized"/> and a GGUF file, the block-quantized matrices of the
    /// context refiner, the noise refiner and the main layers stay as their stored blocks (and their F16/BF16 tensors as
    /// 16-bit values when the model computes in float32)
    /// (<see cref="QuantizedWeights"/>, set as <see cref="Lumina2Transformer.BlockWeights"/>) and each block is
    /// dequantized into the model's dtype just before it runs. A <c>.safetensors</c> file or an F32 GGUF has nothing to keep, so
    /// both modes load it dense. Build the model with <see cref="LoadModel"/> to skip allocating and initialising the
    /// dense weights first.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">A strict load found missing, unexpected or misshapen keys.</exception>
    /// <exception cref="GgufException">A GGUF file is malformed, not <c>lumina2</c>, or holds a type Lumina cannot dequantize.</exception>
    /// <exception cref="NotSupportedException">KeepQuantized on a GGUF in diffusers' layout (split q/k/v).</exception>
    public static (Lumina2CheckpointLayout Layout, CheckpointLoadReport Report) Load(Lumina2Transformer model, string path, QuantizedWeightsMode mode, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown quantized-weights mode.");
        using var source = Open(path);
        return LoadFrom(model, source, mode, strict);
    }

    /// <summary>
    /// Builds a <see cref="Lumina2Transformer"/> and loads <paramref name="path"/> into it strictly (any format and
    /// layout <see cref="Load(Lumina2Transformer, string, QuantizedWeightsMode, bool)"/> reads). The architecture is
    /// checked against the file's header first (keys and shapes, on the meta device), so a wrong config fails before
    /// any weight memory is allocated; the dense weights are then created without random initialisation (every one
    /// is overwritten), and with <see cref="QuantizedWeightsMode.KeepQuantized"/> the kept matrices are never
    /// allocated dense at all, so resident memory stays about the size of the file.
    /// </summary>
    /// <param name="path">A <c>.safetensors</c> file, a sharded index, or a <c>.gguf</c> file.</param>
    /// <param name="config">The architecture (<see cref="DiTPresets.Lumina2"/> for the released model).</param>
    /// <param name="device">Device for the weights (null = CPU).</param>
    /// <param name="dtype">Compute dtype of the weights (null = float32); kept blocks are dequantized into it.</param>
    /// <param name="mode">How GGUF block-quantized weights are held.</param>
    /// <exception cref="CheckpointMismatchException">The file does not fit <paramref name="config"/> (names every key that differs).</exception>
    /// <exception cref="GgufException">A GGUF file is malformed, not <c>lumina2</c>, or holds a type Lumina cannot dequantize.</exception>
    public static Lumina2Transformer LoadModel(string path, Lumina2Config config, torch.Device? device = null, torch.ScalarType? dtype = null,
        QuantizedWeightsMode mode = QuantizedWeightsMode.DequantizeAtLoad)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(config);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown quantized-weights mode.");
        config.Validate();
        using var source = Open(path);
        var layout = Lumina2KeyMap.DetectLayout(source.Tensors.Select(t => t.Name));
        using (var skeleton = new Lumina2Transformer(config, new torch.Device("meta")))
        {
            using var view = UpstreamView(source, layout, config);
            skeleton.CheckTensors(view, Options(layout, strict: true));
        }
        Lumina2Transformer model;
        using (ModuleFactory.SkipInitialization())
            model = new Lumina2Transformer(config, device, dtype);
        try
        {
            LoadFrom(model, source, mode, strict: true);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> as a Lumina-Image 2.0 GGUF file laid out as ComfyUI-GGUF's files are (arch
    /// <c>lumina2</c>, upstream names in sorted order, alignment 32, the same metadata; see <see cref="GgufStorageType"/>
    /// for which tensor gets which type), quantizing with <see cref="GgmlQuantizer"/>: from the same float32 weights the
    /// file is byte-identical to ComfyUI-GGUF's <c>convert.py</c> + <c>llama-quantize</c> output. A model whose weights are kept quantized is dequantized block by
    /// block while writing.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="fileType">F32, F16, BF16, Q8_0, Q4_0 or Q4_1.</param>
    /// <param name="cancellationToken">Checked between tensors.</param>
    public static void SaveGguf(Lumina2Transformer model, string path, GgmlType fileType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var all = (model.BlockWeights as QuantizedWeights)?.UseAll();
        var state = model.state_dict();
        WriteGguf(path, state.Select(kv => new KeyValuePair<string, Func<torch.Tensor>>(kv.Key, () => kv.Value)),
            state.ToDictionary(kv => kv.Key, kv => kv.Value.shape), fileType, cancellationToken);
    }

    /// <summary>
    /// Writes named tensors (upstream keys, values produced one at a time, e.g. random data for a benchmark) as a
    /// Lumina-Image 2.0 GGUF file, exactly as <see cref="SaveGguf"/> lays out a model.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Each key with a function producing its floating-point values (disposed after writing).</param>
    /// <param name="shapes">The torch shape of every key.</param>
    /// <param name="fileType">F32, F16, BF16, Q8_0, Q4_0 or Q4_1.</param>
    /// <param name="cancellationToken">Checked between tensors.</param>
    public static void WriteGguf(string path, IEnumerable<KeyValuePair<string, Func<torch.Tensor>>> tensors, IReadOnlyDictionary<string, long[]> shapes,
        GgmlType fileType, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(shapes);
        var fileTypeCode = fileType switch
        {
            GgmlType.F32 => (uint?)null, GgmlType.F16 => 1u, GgmlType.BF16 => 32u, GgmlType.Q8_0 => 7u, GgmlType.Q4_0 => 2u, GgmlType.Q4_1 => 3u,
            _ => throw new ArgumentOutOfRangeException(nameof(fileType), fileType, "Lumina writes Lumina-Image 2.0 GGUF files as F32, F16, BF16, Q8_0, Q4_0 or Q4_1."),
        };
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new(GgufHeader.ArchitectureKey, GgufValue.String(GgufArchitecture)),
            new("general.quantization_version", GgufValue.UInt32(2)),
        };
        if (fileTypeCode is { } code) metadata.Add(new("general.file_type", GgufValue.UInt32(code)));
        var entries = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv =>
        {
            var shape = shapes.TryGetValue(kv.Key, out var s) ? s : throw new ArgumentException($"No shape given for '{kv.Key}'.", nameof(shapes));
            var type = GgufStorageType(kv.Key, shape, fileType);
            return new GgufWriterTensor(kv.Key, type, shape, () =>
            {
                var values = kv.Value();
                if (type.IsQuantized()) return GgmlQuantizer.Quantize(type, values);
                return values.to(type.ReadType().ToScalarType(), torch.CPU);
            });
        });
        GgufWriter.Write(path, metadata, entries, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// The ggml type a tensor is stored as in a Lumina-Image 2.0 GGUF file of <paramref name="fileType"/>, by
    /// ComfyUI-GGUF's rules (<c>convert.py</c>, then <c>llama-quantize</c> with its <c>lcpp.patch</c>): 1-D tensors and
    /// tensors of at most 1024 values are F32; only the 2-D <c>layers.N.*</c> weights (not norms) are block-quantized,
    /// with <c>feed_forward.w2</c> upgraded from Q4_0 to Q4_1, and a row that is not whole blocks falls back to F16;
    /// every other tensor is F16 (BF16 in a BF16 file, F32 in an F32 file).
    /// </summary>
    public static GgmlType GgufStorageType(string key, IReadOnlyList<long> shape, GgmlType fileType)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        long elements = 1;
        foreach (var d in shape) elements *= d;
        if (fileType == GgmlType.F32 || shape.Count <= 1 || elements <= 1024) return GgmlType.F32;
        var plain = fileType == GgmlType.BF16 ? GgmlType.BF16 : GgmlType.F16;
        if (!fileType.IsQuantized()) return plain;
        var quantized = key.StartsWith("layers.", StringComparison.Ordinal) && key.EndsWith("weight", StringComparison.Ordinal)
            && shape.Count == 2 && !key.Contains("_norm.weight", StringComparison.Ordinal);
        if (!quantized || shape[^1] % fileType.BlockSize() != 0) return plain;
        return fileType == GgmlType.Q4_0 && key.EndsWith(".feed_forward.w2.weight", StringComparison.Ordinal) ? GgmlType.Q4_1 : fileType;
    }

    private static ITensorSource Open(string path) => IsGguf(path) ? OpenGguf(path) : SafetensorsCheckpoint.Open(path);

    private static CheckpointLoadOptions Options(Lumina2CheckpointLayout layout, bool strict) =>
        new() { Strict = strict, KeyMap = layout == Lumina2CheckpointLayout.ComfyUI ? Lumina2KeyMap.FromComfy : null };

    // The source with upstream names and shapes (a diffusers file's to_q/k/v fused into qkv); the caller disposes it
    // (disposing the view leaves the source open).
    private static ITensorSource UpstreamView(ITensorSource source, Lumina2CheckpointLayout layout, Lumina2Config config) =>
        layout == Lumina2CheckpointLayout.Diffusers ? new FusedQkvSource(source, config) : new BorrowedSource(source);

    private static (Lumina2CheckpointLayout Layout, CheckpointLoadReport Report) LoadFrom(Lumina2Transformer model, ITensorSource source, QuantizedWeightsMode mode, bool strict)
    {
        var layout = Lumina2KeyMap.DetectLayout(source.Tensors.Select(t => t.Name));
        var options = Options(layout, strict);
        if (mode == QuantizedWeightsMode.KeepQuantized && source is GgufFile gguf)
        {
            if (layout == Lumina2CheckpointLayout.Diffusers)
                throw new NotSupportedException(
                    $"'{source.SourcePath}' is a GGUF in diffusers' layout (split to_q/to_k/to_v), which cannot stay quantized as one fused qkv; load it with {nameof(QuantizedWeightsMode)}.{nameof(QuantizedWeightsMode.DequantizeAtLoad)}.");
            var blocks = model.ContextRefiner.Concat(model.NoiseRefiner).Concat(model.Layers).Cast<torch.nn.Module>();
            var weights = QuantizedWeights.Load(model, gguf, blocks, options);
            if (weights.QuantizedKeys.Count == 0)
                weights.Dispose(); // an F32 file (or a bf16 model of an F16/BF16 file): nothing is smaller kept
            else
                model.BlockWeights = weights;
            return new(layout, weights.Report);
        }
        using var view = UpstreamView(source, layout, model.Config);
        return new(layout, model.LoadTensors(view, options));
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

    // A source seen through ITensorSource whose Dispose leaves it open (the caller owns it).
    private sealed class BorrowedSource(ITensorSource inner) : ITensorSource
    {
        public string SourcePath => inner.SourcePath;

        public IReadOnlyList<SafetensorsTensorInfo> Tensors => inner.Tensors;

        public bool TryGetInfo(string name, out SafetensorsTensorInfo info) => inner.TryGetInfo(name, out info);

        public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null) => inner.Read(name, dtype, device);

        public void ReadInto(string name, torch.Tensor destination) => inner.ReadInto(name, destination);

        public void Dispose()
        {
            // The inner source belongs to the caller.
        }
    }
}
