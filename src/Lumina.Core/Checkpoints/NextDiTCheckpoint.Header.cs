using Lumina.Models.DiT;
using Lumina.Tensors;

namespace Lumina.Checkpoints;

public static partial class NextDiTCheckpoint
{
    /// <summary>
    /// Compares a Next-DiT config with its checkpoint's header (tensor names and shapes, no data) before the model is
    /// built, so a config that would allocate far more than the checkpoint holds (<c>num_layers: 100000</c>,
    /// <c>hidden_size: 1000000000</c>) is refused with the file and field named instead of exhausting memory: throws
    /// unless <paramref name="config"/>'s layer count and widths match <paramref name="weightsPath"/>'s header.
    /// </summary>
    /// <param name="config">The parsed config.</param>
    /// <param name="weightsPath">The checkpoint (a .safetensors file or a *.safetensors.index.json).</param>
    /// <param name="configSource">Where the config came from, for messages (a config.json path or a preset name).</param>
    /// <exception cref="LuminaException">They disagree; the message names the config, the field and the checkpoint.</exception>
    public static void CheckHeader(NextDiTConfig config, string weightsPath, string configSource)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrEmpty(weightsPath);
        using var checkpoint = SafetensorsCheckpoint.Open(weightsPath);
        var layers = BlockCount.Of(checkpoint.Tensors.Select(t => t.Name), "layers.");
        var embedder = checkpoint.Tensors.LastOrDefault(t => t.Name is "x_embedder.weight" or "patch_embedder.proj.weight");
        if (layers != config.Layers)
            throw new LuminaException($"{configSource}: num_layers is {config.Layers}, but '{weightsPath}' holds {layers} layers; fix num_layers or use the checkpoint this config belongs to.");
        if (embedder is { Shape.Count: 2 } e)
        {
            if (e.Shape[0] != config.Dim)
                throw new LuminaException($"{configSource}: hidden_size is {config.Dim}, but '{weightsPath}' has {e.Name} of width {e.Shape[0]}; fix hidden_size.");
            var patchInputs = (long)config.PatchSize * config.PatchSize * config.InChannels;
            if (e.Shape[1] != patchInputs)
                throw new LuminaException($"{configSource}: patch_size {config.PatchSize} and in_channels {config.InChannels} make {patchInputs} inputs per patch, " +
                                          $"but '{weightsPath}' has {e.Name} with {e.Shape[1]}; fix patch_size or in_channels.");
        }
    }
}
