using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Solvers;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// Fluent builder of a <see cref="TextToImagePipeline"/> (<c>LuminaPipeline.TextToImage()</c>): the shared
/// <see cref="PipelineBuilder{TBuilder, TPipeline}"/> steps plus the transformer's architecture, file and LoRAs.
/// <see cref="BuildAsync"/> resolves the model and loads it.
/// </summary>
public sealed class TextToImagePipelineBuilder : PipelineBuilder<TextToImagePipelineBuilder, TextToImagePipeline>
{
    private readonly List<(string Path, double Strength)> loraFiles = [];

    private protected override SamplingSettings FamilyDefaults => Families.LuminaNextFamily.Instance.DefaultSettings;

    /// <summary>Original layout: the DiT architecture by preset name (e.g. <c>NextDiT-2B-GQA</c>, <c>FlagDiT-5B</c>; see <see cref="Families.ModelFamilies.Preset"/>).</summary>
    public TextToImagePipelineBuilder WithTransformerPreset(string preset)
    {
        Families.ModelFamilies.Preset(preset);
        Load = Load with { TransformerPreset = preset };
        return this;
    }

    /// <summary>
    /// Original layout: an explicit architecture, of the type the folder's family builds (<see cref="NextDiTConfig"/> for
    /// Lumina-Next, <see cref="FlagDiTConfig"/> for Lumina-T2I).
    /// </summary>
    public TextToImagePipelineBuilder WithTransformerConfig(DiTConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Load = Load with { TransformerConfig = config };
        return this;
    }

    /// <summary>
    /// Transformer weights from <paramref name="file"/> instead of the folder's (a fine-tuned or converted single-file
    /// checkpoint); the folder still gives the architecture and the other components.
    /// </summary>
    public TextToImagePipelineBuilder WithTransformerFile(string file)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        if (!File.Exists(file)) throw new FileNotFoundException($"Transformer file '{file}' does not exist.", file);
        Load = Load with { TransformerFile = Path.GetFullPath(file) };
        return this;
    }

    /// <summary>
    /// How a GGUF transformer file's quantized weights are held (<see cref="ModelLoadOptions.QuantizedWeights"/>):
    /// kept quantized and dequantized block by block (the default), or dequantized at Load.
    /// </summary>
    public TextToImagePipelineBuilder WithQuantizedWeights(QuantizedWeightsMode mode)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Use KeepQuantized or DequantizeAtLoad.");
        Load = Load with { QuantizedWeights = mode };
        return this;
    }

    /// <summary>
    /// Applies a LoRA file once the pipeline is built (<see cref="TextToImagePipeline.LoadLora"/>, removable, strict);
    /// call it again to stack several, each with its own strength. The LoRAs are recorded in each image's metadata.
    /// </summary>
    /// <param name="path">The adapter file (kohya, ComfyUI or diffusers/PEFT; LoRA, LoHa or LoKr).</param>
    /// <param name="strength">Multiplies the update (1 = as trained).</param>
    public TextToImagePipelineBuilder WithLora(string path, double strength = 1.0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!double.IsFinite(strength))
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "The LoRA strength must be a finite number (1 = as trained, 0 = off).");
        if (!File.Exists(path)) throw new FileNotFoundException($"The LoRA file '{path}' does not exist.", path);
        loraFiles.Add((Path.GetFullPath(path), strength));
        return this;
    }

    /// <summary>
    /// Resolves the model (a local folder, or a repo id through the resolver), fetches the components an original-layout
    /// folder lacks (<see cref="ModelLoadOptions.DefaultTextEncoderRepo"/>, <see cref="ModelLoadOptions.DefaultVaeRepo"/>),
    /// and loads the pipeline on a worker thread.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="PipelineBuilder{TBuilder, TPipeline}.FromPretrained"/> was not called.</exception>
    public override async Task<TextToImagePipeline> BuildAsync(CancellationToken cancellationToken = default)
    {
        var (folder, modelId) = await ResolveSourceAsync(cancellationToken).ConfigureAwait(false);
        var layout = ModelFolder.Open(folder, Load.PreferEma);
        var family = Families.ModelFamilies.Detect<Families.ImageModelFamily>(layout, "text-to-image");
        var l = Load with
        {
            TextEncoderPath = await ComponentAsync(Load.TextEncoderPath, layout, "text_encoder",
                Load.DefaultTextEncoderRepo ?? family.DefaultTextEncoderRepo, ModelComponent.TextEncoder, cancellationToken).ConfigureAwait(false),
            VaePath = family.NeedsVae(layout) || Load.VaePath is not null
                ? await ComponentAsync(Load.VaePath, layout, "vae", Load.DefaultVaeRepo ?? family.DefaultVaeRepo, ModelComponent.Vae, cancellationToken).ConfigureAwait(false)
                : null,
            TokenizerPath = Load.TokenizerPath is { } t && !Directory.Exists(t)
                ? await ResolveAsync(t, ModelComponent.TextEncoder, cancellationToken).ConfigureAwait(false)
                : Load.TokenizerPath,
        };
        var s = SettingsOver(family.SettingsFor(layout));
        s.Validate();
        var pipeline = await Task.Run(() => TextToImageLoader.Load(folder, l, s, modelId, cancellationToken), cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var (path, strength) in loraFiles)
                pipeline.LoadLora(path, strength);
            return pipeline;
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    private async Task<string?> ComponentAsync(string? given, ModelFolder layout, string subfolder, string? defaultRepo, ModelComponent kind,
        CancellationToken cancellationToken)
    {
        if (given is not null)
            return Directory.Exists(given) || File.Exists(given) || !ModelReference.IsHubIdShaped(given) ? given : await ResolveAsync(given, kind, cancellationToken).ConfigureAwait(false);
        if (layout.Component(subfolder) is { } inside) return inside;
        if (layout.Layout != ModelLayoutKind.Diffusers && !string.IsNullOrEmpty(defaultRepo))
            return await ResolveAsync(defaultRepo, kind, cancellationToken).ConfigureAwait(false);
        return null;
    }
}
