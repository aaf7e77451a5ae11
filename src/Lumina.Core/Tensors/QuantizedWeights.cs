using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// Weights that a model materializes one block at a time: the model calls <see cref="Use"/> around each block's forward
/// and disposes the result afterwards. <see cref="QuantizedWeights"/> implements it for GGUF weights kept quantized.
/// </summary>
internal interface IBlockWeights
{
    /// <summary>
    /// Makes <paramref name="block"/>'s weights usable until the returned scope is disposed; null when the block has
    /// nothing to materialize.
    /// </summary>
    IDisposable? Use(torch.nn.Module block);
}

/// <summary>How a GGUF transformer's block-quantized weights are held.</summary>
public enum QuantizedWeightsMode
{
    /// <summary>Dequantize every tensor once at load into the model's dtype: a dense model, as fast as one loaded from safetensors.</summary>
    DequantizeAtLoad = 0,

    /// <summary>
    /// Keep each transformer block's quantized matrices as their stored blocks and dequantize one block at a time
    /// during the forward (into the model's dtype), freeing it right after: the resident weights stay about the size of
    /// the file, for machines too small for the dense model; each forward pays the dequantization once per block.
    /// </summary>
    KeepQuantized = 1,
}

/// <summary>
/// Block-quantized GGUF weights kept as their stored bytes and dequantized on use. <see cref="Load"/> strictly loads a
/// GGUF file into a module: tensors of block types that belong to one of the given blocks stay quantized, and so do
/// their F16/BF16 tensors when the module's dtype is wider (float32), stored at half the dense size (their
/// parameters point at a one-element NaN placeholder broadcast to the full shape, so shapes, state_dict names and
/// strict loading are unchanged and a forward that forgets <see cref="Use"/> gives NaN instead of a crash); every other
/// tensor is read (and dequantized) into its parameter. <see cref="Use"/> dequantizes one block's matrices into the
/// parameters' own dtype and device with <c>set_</c>, and its scope puts the placeholders back.
/// </summary>
internal sealed class QuantizedWeights : IBlockWeights, IDisposable
{
    private readonly Dictionary<torch.nn.Module, List<Entry>> _byBlock;
    private readonly List<Entry> _all;
    private bool _disposed;

    private sealed record Entry(string Key, torch.Tensor Parameter, GgmlType Type, long[] Shape, torch.Tensor Raw, torch.Tensor Placeholder);

    private QuantizedWeights(Dictionary<torch.nn.Module, List<Entry>> byBlock, CheckpointLoadReport report)
    {
        _byBlock = byBlock;
        _all = byBlock.Values.SelectMany(e => e).ToList();
        Report = report;
    }

    /// <summary>What the strict load found (every module key, in module names).</summary>
    public CheckpointLoadReport Report { get; }

    /// <summary>The keys (module names) that are kept in their stored form (block types, and F16/BF16 under a wider dtype).</summary>
    public IReadOnlyList<string> QuantizedKeys => _all.Select(e => e.Key).ToList();

    /// <summary>Bytes of stored tensors held (about the part of the file inside the blocks).</summary>
    public long QuantizedBytes => _all.Sum(e => e.Raw.numel());

    /// <summary>
    /// Loads <paramref name="file"/> into <paramref name="root"/>, keeping the block-quantized tensors of
    /// <paramref name="blocks"/> quantized (see the type's summary).
    /// </summary>
    /// <param name="root">The model; its state_dict names (after <see cref="CheckpointLoadOptions.KeyMap"/>) must match the file.</param>
    /// <param name="file">The GGUF file.</param>
    /// <param name="blocks">Submodules of <paramref name="root"/> that call <see cref="Use"/> around their forward.</param>
    /// <param name="options">Strictness and key mapping, as for any checkpoint load.</param>
    /// <exception cref="CheckpointMismatchException">A strict load found missing, unexpected or misshapen keys.</exception>
    /// <exception cref="GgufException">A tensor's type cannot be dequantized, or the file is corrupt.</exception>
    public static QuantizedWeights Load(torch.nn.Module root, GgufFile file, IEnumerable<torch.nn.Module> blocks, CheckpointLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(blocks);
        var wanted = blocks.ToHashSet(ReferenceEqualityComparer.Instance);
        var prefixes = new List<(string Prefix, torch.nn.Module Block)>();
        foreach (var (name, module) in root.named_modules())
            if (wanted.Contains(module))
                prefixes.Add((name + ".", module));
        if (prefixes.Count != wanted.Count)
            throw new ArgumentException("Every block must be a submodule of the root module.", nameof(blocks));
        foreach (var info in file.TensorInfos)
            if (!GgufFile.CanRead(info.Type))
                throw new GgufException(file.SourcePath,
                    $"tensor '{SafetensorsHeader.Shorten(info.Name)}' has type {info.Type}, which Lumina cannot dequantize (supported: {string.Join(", ", GgmlDequantizer.Supported)}).");

        var keyMap = options?.KeyMap;
        var byBlock = new Dictionary<torch.nn.Module, List<Entry>>(ReferenceEqualityComparer.Instance);
        using var source = new CapturingSource(file, (fileKey, destination) =>
        {
            var info = file.GetTensorInfo(fileKey);
            var key = keyMap is null ? fileKey : keyMap(fileKey) ?? fileKey;
            var owner = prefixes.FirstOrDefault(p => key.StartsWith(p.Prefix, StringComparison.Ordinal)).Block;
            if (owner is null || !torch.is_floating_point(destination) || !Keeps(info.Type, destination))
                return false;
            var raw = file.ReadRaw(fileKey);
            var placeholder = torch.full(1, float.NaN, destination.dtype, destination.device).expand(destination.shape);
            destination.set_(placeholder);
            if (!byBlock.TryGetValue(owner, out var list))
                byBlock[owner] = list = [];
            list.Add(new Entry(key, destination, info.Type, info.ShapeArray(), raw, placeholder));
            return true;
        });
        CheckpointLoadReport report;
        try
        {
            report = root.LoadTensors(source, options);
        }
        catch
        {
            foreach (var e in byBlock.Values.SelectMany(l => l))
            {
                e.Raw.Dispose();
                e.Placeholder.Dispose();
            }
            throw;
        }
        return new QuantizedWeights(byBlock, report);
    }

    // Block types always; F16/BF16 when the model computes in a wider dtype (kept at half the dense size).
    private static bool Keeps(GgmlType type, torch.Tensor destination) =>
        type.IsQuantized() || (type is GgmlType.F16 or GgmlType.BF16 && destination.element_size() > 2);

    /// <inheritdoc />
    public IDisposable? Use(torch.nn.Module block)
    {
        ArgumentNullException.ThrowIfNull(block);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _byBlock.TryGetValue(block, out var entries) ? Materialize(entries) : null;
    }

    /// <summary>Dequantizes every kept tensor until the scope is disposed (for a model that cannot call <see cref="Use"/>, or to export it).</summary>
    public IDisposable UseAll()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Materialize(_all);
    }

    private static Scope Materialize(List<Entry> entries)
    {
        var done = new List<Entry>(entries.Count);
        try
        {
            using (torch.no_grad())
            {
                foreach (var e in entries)
                {
                    using var dense = GgmlDequantizer.Dequantize(e.Type, e.Raw, e.Shape, e.Parameter.dtype, e.Parameter.device);
                    e.Parameter.set_(dense);
                    done.Add(e);
                }
            }
        }
        catch
        {
            new Scope(done).Dispose();
            throw;
        }
        return new Scope(done);
    }

    /// <summary>Frees the stored blocks; the kept parameters stay NaN placeholders.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var e in _all)
        {
            e.Raw.Dispose();
            e.Placeholder.Dispose();
        }
    }

    private sealed class Scope(List<Entry> entries) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            using (torch.no_grad())
                foreach (var e in entries)
                    e.Parameter.set_(e.Placeholder);
        }
    }

    /// <summary>A GGUF file seen through <see cref="ITensorSource"/> whose reads a callback may take over.</summary>
    private sealed class CapturingSource(GgufFile file, Func<string, torch.Tensor, bool> capture) : ITensorSource
    {
        public string SourcePath => file.SourcePath;

        public IReadOnlyList<SafetensorsTensorInfo> Tensors => file.Tensors;

        public bool TryGetInfo(string name, out SafetensorsTensorInfo info) => file.TryGetInfo(name, out info);

        public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null) => file.Read(name, dtype, device);

        public void ReadInto(string name, torch.Tensor destination)
        {
            if (!capture(name, destination))
                file.ReadInto(name, destination);
        }

        public void Dispose()
        {
            // The file belongs to the caller.
        }
    }
}
