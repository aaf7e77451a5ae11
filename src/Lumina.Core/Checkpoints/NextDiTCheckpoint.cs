using Lumina.Models.DiT;
using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Checkpoints;

/// <summary>Loads and saves <see cref="NextDiT"/> weights in either checkpoint layout.</summary>
public static partial class NextDiTCheckpoint
{
    /// <summary>True when a checkpoint's key set is in the diffusers layout (it has <c>patch_embedder.proj.weight</c>).</summary>
    public static bool IsDiffusersLayout(IEnumerable<string> keys) => keys.Any(k => k.StartsWith("patch_embedder.", StringComparison.Ordinal));

    /// <summary>
    /// Loads a single <c>.safetensors</c> or a sharded <c>*.safetensors.index.json</c> into <paramref name="model"/>,
    /// detecting the layout (original Lumina or diffusers) from the keys. Strict unless <paramref name="strict"/> is false:
    /// every model key must be present with its shape and no file key may be left over (the duplicated diffusers
    /// <c>attn2</c> query weights are the only keys skipped).
    /// </summary>
    public static CheckpointLoadReport Load(NextDiT model, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var source = SafetensorsCheckpoint.Open(path);
        return Load(model, source, strict);
    }

    /// <summary>Loads the tensors of an open <paramref name="source"/> into <paramref name="model"/>; as <see cref="Load(NextDiT, string, bool)"/>.</summary>
    public static CheckpointLoadReport Load(NextDiT model, ITensorSource source, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        var diffusers = IsDiffusersLayout(source.Tensors.Select(t => t.Name));
        return model.LoadTensors(source, new CheckpointLoadOptions
        {
            Strict = strict,
            KeyMap = diffusers ? NextDiTKeyMap.FromDiffusers : null,
        });
    }

    /// <summary>Writes <paramref name="model"/> in the diffusers <c>LuminaNextDiT2DModel</c> layout (one file).</summary>
    public static void SaveDiffusers(NextDiT model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var entries = new List<KeyValuePair<string, torch.Tensor>>();
        foreach (var (key, value) in model.state_dict())
            foreach (var name in NextDiTKeyMap.ToDiffusers(key))
                entries.Add(new(name, value));
        SafetensorsWriter.Write(path, entries, metadata);
    }
}
