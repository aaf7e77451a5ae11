using TorchSharp;

namespace Lumina.Tensors;

/// <summary>Loads and saves a TorchSharp module's state (parameters and persistent buffers) as safetensors.</summary>
public static class ModuleCheckpointExtensions
{
    /// <summary>
    /// Loads a <c>.safetensors</c> file, a <c>*.safetensors.index.json</c> with its shards, or a folder holding
    /// one of them into <paramref name="module"/>. Strict by default. A contiguous CPU parameter of the stored dtype is
    /// filled straight from disk; any other parameter gets one temporary of the tensor's stored size, freed at once,
    /// so loading never needs a second copy of the model.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">A strict load found missing, unexpected or misshapen keys.</exception>
    /// <exception cref="SafetensorsException">A file is malformed.</exception>
    public static CheckpointLoadReport LoadSafetensors(this torch.nn.Module module, string path, CheckpointLoadOptions? options = null)
    {
        using var source = SafetensorsCheckpoint.Open(path);
        return module.LoadTensors(source, options);
    }

    /// <summary>Loads an open tensor source into <paramref name="module"/>; see <see cref="LoadSafetensors(torch.nn.Module, string, CheckpointLoadOptions?)"/>.</summary>
    public static CheckpointLoadReport LoadTensors(this torch.nn.Module module, ITensorSource source, CheckpointLoadOptions? options = null)
    {
        var (report, plan) = CheckedPlan(module, source, options);
        using (torch.no_grad())
        {
            foreach (var (fileKey, target) in plan)
            {
                if (target.device_type == DeviceType.META)
                    throw new InvalidOperationException($"Cannot load '{fileKey}' into a module on the meta device; build the module on a real device first.");
                source.ReadInto(fileKey, target);
            }
        }
        return report;
    }

    /// <summary>
    /// Matches <paramref name="source"/>'s keys and shapes against <paramref name="module"/>'s state without reading
    /// any tensor data, as a strict <see cref="LoadTensors"/> would. Works on a module built on the meta device, so an
    /// architecture can be checked against a file's header before any weight memory is allocated.
    /// </summary>
    /// <exception cref="CheckpointMismatchException">Strict options and missing, unexpected or misshapen keys.</exception>
    public static CheckpointLoadReport CheckTensors(this torch.nn.Module module, ITensorSource source, CheckpointLoadOptions? options = null)
    {
        return CheckedPlan(module, source, options).Report;
    }

    /// <summary>Plans a load and, under strict options, throws when the keys or shapes do not match exactly.</summary>
    private static (CheckpointLoadReport Report, List<(string FileKey, torch.Tensor Target)> Plan) CheckedPlan(torch.nn.Module module,
        ITensorSource source, CheckpointLoadOptions? options)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(source);
        options ??= new CheckpointLoadOptions();
        var (report, plan) = Plan(module, source, options);
        if (options.Strict && !report.IsExactMatch)
            throw new CheckpointMismatchException(source.SourcePath, report);
        return (report, plan);
    }

    private static (CheckpointLoadReport Report, List<(string FileKey, torch.Tensor Target)> Plan) Plan(torch.nn.Module module, ITensorSource source, CheckpointLoadOptions options)
    {
        var targets = module.state_dict();
        var plan = new List<(string FileKey, torch.Tensor Target)>();
        var loaded = new List<string>();
        var unexpected = new List<string>();
        var mismatched = new List<string>();
        var skipped = new List<string>();
        var claimed = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var info in source.Tensors)
        {
            var key = options.KeyMap is null ? info.Name : options.KeyMap(info.Name);
            if (key is null)
            {
                skipped.Add(info.Name);
                continue;
            }
            var shown = key == info.Name ? key : $"{info.Name} (as {key})";
            if (!targets.TryGetValue(key, out var target))
            {
                unexpected.Add(shown);
                continue;
            }
            if (!claimed.TryAdd(key, info.Name))
            {
                unexpected.Add($"{shown}, which '{claimed[key]}' already provides");
                continue;
            }
            if (!info.Shape.SequenceEqual(target.shape))
            {
                mismatched.Add($"{shown}: checkpoint [{string.Join(", ", info.Shape)}], model [{string.Join(", ", target.shape)}]");
                continue;
            }
            plan.Add((info.Name, target));
            loaded.Add(key);
        }
        var missing = targets.Keys.Where(k => !claimed.ContainsKey(k)).ToList();
        return (new CheckpointLoadReport(loaded, missing, unexpected, mismatched, skipped), plan);
    }

    /// <summary>
    /// Saves <paramref name="module"/>'s state dictionary as one safetensors file, optionally renaming keys
    /// (for example to another checkpoint layout).
    /// </summary>
    public static void SaveSafetensors(this torch.nn.Module module, string path,
        IReadOnlyDictionary<string, string>? metadata = null, Func<string, string>? keyMap = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var state = module.state_dict();
        SafetensorsWriter.Write(path, state.Select(kv => new KeyValuePair<string, torch.Tensor>(keyMap?.Invoke(kv.Key) ?? kv.Key, kv.Value)), metadata);
    }
}
