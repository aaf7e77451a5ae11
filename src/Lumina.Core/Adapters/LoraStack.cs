using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Adapters;

/// <summary>One adapter applied through a <see cref="LoraStack"/>.</summary>
public sealed class LoraHandle
{
    internal LoraHandle(LoraFile file, bool ownsFile, double strength, LoraApplyMode mode,
        IReadOnlyList<(LoraModule Module, LoraTarget Target)> patches, IReadOnlyList<string> unmatched)
    {
        File = file;
        OwnsFile = ownsFile;
        Strength = strength;
        Mode = mode;
        Patches = patches;
        UnmatchedKeys = unmatched;
        PatchedWeights = patches.Select(p => p.Target.WeightKey).Distinct(StringComparer.Ordinal).ToList();
    }

    internal LoraFile File { get; }
    internal bool OwnsFile { get; }
    internal IReadOnlyList<(LoraModule Module, LoraTarget Target)> Patches { get; }

    /// <summary>The adapter file.</summary>
    public string SourcePath => File.SourcePath;

    /// <summary>The strength the update is multiplied by.</summary>
    public double Strength { get; internal set; }

    /// <summary>Whether it can be removed.</summary>
    public LoraApplyMode Mode { get; }

    /// <summary>The model weights it patches (upstream key names).</summary>
    public IReadOnlyList<string> PatchedWeights { get; }

    /// <summary>File keys that patched nothing (empty unless <see cref="LoraLoadOptions.IgnoreUnmatchedKeys"/> was set).</summary>
    public IReadOnlyList<string> UnmatchedKeys { get; }

    /// <summary>Whether it has been removed (or its stack disposed).</summary>
    public bool IsRemoved { get; internal set; }
}

/// <summary>
/// Applies adapters to a model's weights, in order, each with its own strength, as ComfyUI's weight patcher does:
/// every patched weight is taken to float32, each update <c>(strength · scale) · ΔW</c> is added in load order, and
/// the sum is written back in the weight's dtype. <see cref="LoraApplyMode.Removable"/> adapters keep the original
/// weights aside, so <see cref="Remove"/>, <see cref="SetStrength"/> and <see cref="Clear"/> recompute from them and the
/// base model comes back bit for bit. <see cref="LoraApplyMode.Merge"/> adapters become part of the base.
/// <para>Not thread-safe: do not apply adapters while the model runs.</para>
/// </summary>
public sealed class LoraStack : IDisposable
{
    private readonly LoraTargets _targets;
    private readonly Dictionary<string, Tensor> _originals = new(StringComparer.Ordinal);
    private readonly List<LoraHandle> _loaded = [];
    private bool _disposed;

    /// <summary>A stack over a model's weights (its <c>state_dict()</c>, upstream key names), patched in place.</summary>
    public LoraStack(IReadOnlyDictionary<string, Tensor> weights) => _targets = new LoraTargets(weights);

    /// <summary>A stack over <paramref name="module"/>'s parameters, patched in place.</summary>
    public LoraStack(nn.Module module) : this(StateOf(module)) { }

    /// <summary>The removable adapters currently applied, in order.</summary>
    public IReadOnlyList<LoraHandle> Loaded => _loaded;

    /// <summary>How many weights are held aside to restore the base model.</summary>
    public int SavedWeightCount => _originals.Count;

    /// <summary>Reads <paramref name="path"/> and applies it (see <see cref="Add(LoraFile, double, LoraApplyMode, LoraLoadOptions?)"/>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="LoraFormatException">The file is malformed.</exception>
    /// <exception cref="LoraMismatchException">Keys patch nothing (strict) or an update has the wrong shape.</exception>
    public LoraHandle Add(string path, double strength = 1.0, LoraApplyMode mode = LoraApplyMode.Removable, LoraLoadOptions? options = null)
    {
        ThrowIfDisposed();
        ValidateStrength(strength);
        var file = LoraFile.Load(path);
        try
        {
            return Apply(file, ownsFile: true, strength, mode, options);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Applies a parsed adapter on top of those already applied. Every module is matched first; if any key patches
    /// nothing (unless <see cref="LoraLoadOptions.IgnoreUnmatchedKeys"/>) or any update has the wrong shape, nothing is
    /// applied. The stack does not take ownership of <paramref name="file"/>; keep it alive while the handle is loaded.
    /// </summary>
    /// <exception cref="LoraMismatchException">Keys patch nothing (strict) or an update has the wrong shape.</exception>
    public LoraHandle Add(LoraFile file, double strength = 1.0, LoraApplyMode mode = LoraApplyMode.Removable, LoraLoadOptions? options = null)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(file);
        ValidateStrength(strength);
        return Apply(file, ownsFile: false, strength, mode, options);
    }

    /// <summary>Removes a removable adapter; the weights it patched are recomputed from the originals.</summary>
    public void Remove(LoraHandle handle)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(handle);
        if (!_loaded.Remove(handle))
            throw new InvalidOperationException($"The LoRA '{handle.SourcePath}' is not applied through this stack (merged adapters cannot be removed).");
        handle.IsRemoved = true;
        Refresh(handle.PatchedWeights);
        Release(handle);
    }

    /// <summary>Changes a removable adapter's strength; the weights it patches are recomputed from the originals.</summary>
    public void SetStrength(LoraHandle handle, double strength)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(handle);
        ValidateStrength(strength);
        if (!_loaded.Contains(handle))
            throw new InvalidOperationException($"The LoRA '{handle.SourcePath}' is not applied through this stack (merged adapters cannot be changed).");
        handle.Strength = strength;
        Refresh(handle.PatchedWeights);
    }

    /// <summary>Removes every removable adapter: the patched weights get their original bits back.</summary>
    public void Clear()
    {
        ThrowIfDisposed();
        var handles = _loaded.ToList();
        _loaded.Clear();
        Refresh(_originals.Keys.ToList());
        foreach (var h in handles) { h.IsRemoved = true; Release(h); }
    }

    /// <summary>
    /// Adds adapters into <paramref name="weights"/> for good (no copies kept), each weight summed in float32 over
    /// all of them in order and written back once.
    /// </summary>
    /// <returns>The weights that changed.</returns>
    /// <exception cref="LoraMismatchException">Keys patch nothing (strict) or an update has the wrong shape.</exception>
    public static IReadOnlyList<string> MergeInto(IReadOnlyDictionary<string, Tensor> weights,
        IEnumerable<(LoraFile File, double Strength)> adapters, LoraLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(adapters);
        var targets = new LoraTargets(weights);
        var plans = new List<(IReadOnlyList<(LoraModule Module, LoraTarget Target)> Patches, double Strength)>();
        foreach (var (file, strength) in adapters)
        {
            ArgumentNullException.ThrowIfNull(file);
            ValidateStrength(strength);
            plans.Add((Match(targets, file, options ?? LoraLoadOptions.Default).Patches, strength));
        }
        var keys = plans.SelectMany(p => p.Patches.Select(x => x.Target.WeightKey)).Distinct(StringComparer.Ordinal).ToList();
        using var noGrad = no_grad();
        foreach (var key in keys)
        {
            var weight = weights[key];
            using var scope = NewDisposeScope();
            var sum = ToFloat32Copy(weight);
            foreach (var (patches, strength) in plans)
                AddPatches(sum, key, patches, strength);
            weight.copy_(sum);
        }
        return keys;
    }

    private LoraHandle Apply(LoraFile file, bool ownsFile, double strength, LoraApplyMode mode, LoraLoadOptions? options)
    {
        var (patches, unmatched) = Match(_targets, file, options ?? LoraLoadOptions.Default);
        var handle = new LoraHandle(file, ownsFile, strength, mode, patches, unmatched);
        using var noGrad = no_grad();
        if (mode == LoraApplyMode.Merge)
        {
            foreach (var key in handle.PatchedWeights)
            {
                using var scope = NewDisposeScope();
                if (_originals.TryGetValue(key, out var original))
                {
                    // The merged update becomes part of the base that removable adapters are recomputed from.
                    var sum = ToFloat32Copy(original);
                    AddPatches(sum, key, patches, strength);
                    original.copy_(sum);
                }
                else
                {
                    var weight = _targets.Weights[key];
                    var sum = ToFloat32Copy(weight);
                    AddPatches(sum, key, patches, strength);
                    weight.copy_(sum);
                }
            }
            Refresh(handle.PatchedWeights.Where(_originals.ContainsKey).ToList());
            handle.IsRemoved = true;
            Release(handle);
            return handle;
        }
        foreach (var key in handle.PatchedWeights)
            if (!_originals.ContainsKey(key))
                _originals[key] = _targets.Weights[key].detach().clone();
        _loaded.Add(handle);
        Refresh(handle.PatchedWeights);
        return handle;
    }

    // Recomputes each key from its original and the removable adapters in order; with none left, restores the original.
    private void Refresh(IReadOnlyList<string> keys)
    {
        using var noGrad = no_grad();
        foreach (var key in keys)
        {
            if (!_originals.TryGetValue(key, out var original)) continue;
            var weight = _targets.Weights[key];
            var active = _loaded.Where(h => h.Patches.Any(p => p.Target.WeightKey == key)).ToList();
            if (active.Count == 0)
            {
                weight.copy_(original);
                original.Dispose();
                _originals.Remove(key);
                continue;
            }
            using var scope = NewDisposeScope();
            var sum = ToFloat32Copy(original);
            foreach (var h in active)
                AddPatches(sum, key, h.Patches, h.Strength);
            weight.copy_(sum);
        }
    }

    private static void AddPatches(Tensor sum, string key, IReadOnlyList<(LoraModule Module, LoraTarget Target)> patches, double strength)
    {
        foreach (var (module, target) in patches)
        {
            if (target.WeightKey != key) continue;
            using var delta = module.RawDelta(sum.device);
            // ComfyUI: weight += (strength * (alpha / rank)) * diff; PEFT: weight += diff * ((lora_alpha / r) * scale).
            // Both multiply the float32 update by one double rounded to float32, then add.
            using var scaled = delta.mul(strength * module.Scale);
            using var rows = target.RowOffset == 0 && target.Rows == sum.shape[0] ? sum.alias() : sum.narrow(0, target.RowOffset, target.Rows);
            rows.add_(scaled);
        }
    }

    private static Tensor ToFloat32Copy(Tensor weight) =>
        weight.dtype == ScalarType.Float32 ? weight.detach().clone() : weight.detach().to(ScalarType.Float32);

    private static (IReadOnlyList<(LoraModule Module, LoraTarget Target)> Patches, IReadOnlyList<string> Unmatched) Match(
        LoraTargets targets, LoraFile file, LoraLoadOptions options)
    {
        var patches = new List<(LoraModule, LoraTarget)>();
        var unmatched = new List<string>(file.UnusedKeys);
        var shapes = new List<string>();
        foreach (var module in file.Modules)
        {
            var target = targets.Resolve(module);
            if (target is null)
            {
                unmatched.AddRange(module.Keys);
                continue;
            }
            var weight = targets.Weights[target.WeightKey];
            if (weight.dim() != 2 || module.OutFeatures != target.Rows || module.InFeatures != weight.shape[1])
            {
                var what = target.Rows == weight.shape[0] ? target.WeightKey : $"rows {target.RowOffset}..{target.RowOffset + target.Rows} of {target.WeightKey}";
                shapes.Add($"{module.Name}: update [{module.OutFeatures}, {module.InFeatures}], {what} [{(target.Rows == weight.shape[0] ? string.Join(", ", weight.shape) : $"{target.Rows}, {weight.shape[1]}")}]");
                continue;
            }
            patches.Add((module, target));
        }
        if (shapes.Count > 0 || (unmatched.Count > 0 && !options.IgnoreUnmatchedKeys))
            throw new LoraMismatchException(file.SourcePath, unmatched, shapes);
        return (patches, unmatched);
    }

    private static void ValidateStrength(double strength)
    {
        if (!double.IsFinite(strength))
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "The LoRA strength must be a finite number (1 = as trained, 0 = off).");
    }

    private static Dictionary<string, Tensor> StateOf(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.state_dict();
    }

    private static void Release(LoraHandle handle)
    {
        if (handle.OwnsFile) handle.File.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>
    /// Releases the saved originals and the adapters this stack read. The weights keep their current (patched)
    /// values; call <see cref="Clear"/> first to restore the base model.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _originals.Values) t.Dispose();
        _originals.Clear();
        foreach (var h in _loaded) { h.IsRemoved = true; Release(h); }
        _loaded.Clear();
    }
}
