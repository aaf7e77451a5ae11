using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Tensors;

namespace Lumina.Families;

/// <summary>What a family loads from: the opened folder and the load options (device, dtype, architecture, files).</summary>
/// <param name="Folder">The model folder.</param>
/// <param name="Options">Device, dtype, component folders, transformer file and (original layout) the architecture.</param>
/// <param name="Family">The family that loads (named in errors).</param>
public sealed record FamilyLoadContext(ModelFolder Folder, ModelLoadOptions Options, ModelFamily Family)
{
    /// <summary>The transformer weights: <see cref="ModelLoadOptions.TransformerFile"/> when set, else the folder's.</summary>
    public string TransformerWeights => Options.TransformerFile ?? Folder.TransformerWeights;

    /// <summary>
    /// Opens <see cref="TransformerWeights"/> as a tensor source (a <c>.safetensors</c> file, a sharded
    /// <c>.safetensors.index.json</c>, or a <c>.gguf</c> file, whose block types read dequantized to float32). The one
    /// place a family opens transformer weights, so other file formats plug in here.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public ITensorSource OpenTransformerWeights()
    {
        var path = TransformerWeights;
        if (!File.Exists(path)) throw new FileNotFoundException($"Transformer weights '{path}' do not exist.", path);
        return path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? GgufFile.Open(path) : SafetensorsCheckpoint.Open(path);
    }

    /// <summary>
    /// Creates the transformer module and fills it from <see cref="OpenTransformerWeights"/> with <paramref name="load"/>
    /// (strict key loading, a key map, …); the module is disposed when loading fails.
    /// </summary>
    public TModule LoadTransformerModule<TModule>(Func<TModule> create, Action<TModule, ITensorSource> load) where TModule : TorchSharp.torch.nn.Module
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(load);
        var module = create();
        try
        {
            using var source = OpenTransformerWeights();
            load(module, source);
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The architecture of an original-layout checkpoint: <see cref="ModelLoadOptions.TransformerConfig"/>, else the named
    /// <see cref="ModelLoadOptions.TransformerPreset"/>, else the family's first preset.
    /// </summary>
    /// <exception cref="LuminaException">The given config or preset belongs to another family.</exception>
    public TConfig TransformerConfig<TConfig>() where TConfig : DiTConfig
    {
        if (Options.TransformerConfig is { } given)
            return given as TConfig ?? throw new LuminaException(
                $"'{TransformerWeights}' is a {Family.DisplayName} checkpoint, which needs a {typeof(TConfig).Name}, but a {given.GetType().Name} was given.");
        if (Options.TransformerPreset is { } name)
        {
            var (family, config) = ModelFamilies.Preset(name);
            return config as TConfig ?? throw new LuminaException(
                $"'{TransformerWeights}' is a {Family.DisplayName} checkpoint but preset '{name}' is a {family.DisplayName}; use {string.Join(" or ", Family.Presets.Select(p => p.Key))}.");
        }
        return Family.Presets.Select(p => p.Value).OfType<TConfig>().FirstOrDefault()
            ?? throw new LuminaException($"{Family.DisplayName} has no default architecture; pass {nameof(ModelLoadOptions.TransformerConfig)}.");
    }
}
