using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Tensors;

namespace Lumina.Families;

/// <summary>
/// Lumina-Image 2.0 (Unified Next-DiT 2.6B + Gemma-2-2B + the FLUX VAE) and its fine-tunes: the diffusers folder
/// (<c>Alpha-VLLM/Lumina-Image-2.0</c>: <c>Lumina2Pipeline</c>, <c>Lumina2Transformer2DModel</c>), a folder with an
/// upstream-key <c>consolidated*.safetensors</c>, and a ComfyUI single file (<c>model.diffusion_model.*</c> keys,
/// <c>Comfy-Org/Lumina_Image_2.0_Repackaged</c>). A single file's architecture is read from its header and checked
/// against it before anything is allocated; its text encoder and VAE come from <see cref="ModelLoadOptions.TextEncoderPath"/>
/// and <see cref="ModelLoadOptions.VaePath"/> (folders, Hub ids, a diffusers folder or repo holding <c>text_encoder/</c>,
/// <c>tokenizer/</c> and <c>vae/</c>, or the FLUX <c>ae.safetensors</c>), else from <c>Alpha-VLLM/Lumina-Image-2.0</c>.
/// Defaults are upstream <c>scripts/sample.sh</c>'s (<see cref="TextToImagePresets.Lumina2"/>).
/// </summary>
internal sealed class Lumina2Family : ImageModelFamily
{
    /// <summary>The diffusers repo of the released model; single files take their text encoder and VAE from it by default.</summary>
    public const string HubRepo = "Alpha-VLLM/Lumina-Image-2.0";

    /// <summary>The registered instance.</summary>
    public static Lumina2Family Instance { get; } = new();

    private Lumina2Family()
    {
    }

    /// <inheritdoc />
    public override string Name => "lumina2";

    /// <inheritdoc />
    public override string DisplayName => "Unified Next-DiT (Lumina-Image 2.0)";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, DiTConfig>> Presets { get; } =
        [new("Lumina2", DiTPresets.Lumina2), new("Lumina2-Diffusers", DiTPresets.Lumina2Diffusers)];

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> PresetAliases { get; } =
        [new("NextDiT-2B-GQA-Adaln-Refiner", "Lumina2"), new("Lumina-Image-2.0", "Lumina2")];

    /// <inheritdoc />
    public override SamplingSettings DefaultSettings => TextToImagePresets.Lumina2;

    /// <inheritdoc />
    public override string DefaultTextEncoderRepo => HubRepo;

    /// <inheritdoc />
    public override string? DefaultVaeRepo => HubRepo;

    /// <inheritdoc />
    public override string? DiffusersTransformerClass => Lumina2Config.DiffusersClassName;

    /// <inheritdoc />
    public override string DiffusersPipelineClass => "Lumina2Pipeline";

    /// <inheritdoc />
    public override DiffusersComponent DiffusersTextEncoder => new("transformers", "Gemma2Model");

    /// <inheritdoc />
    public override bool Recognizes(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (folder.Layout == ModelLayoutKind.Diffusers)
            return folder.TransformerClass == Lumina2Config.DiffusersClassName
                || folder.TransformerClass is null && folder.PipelineClass is "Lumina2Pipeline" or "Lumina2Text2ImgPipeline";
        return RecognizeCheckpoint(folder.TransformerTensorNames) is not null;
    }

    /// <inheritdoc />
    public override ModelLayoutKind? RecognizeCheckpoint(IReadOnlyCollection<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        return Lumina2Checkpoint.RecognizeLayout(tensorNames) switch
        {
            null => null,
            Lumina2CheckpointLayout.Diffusers => ModelLayoutKind.Diffusers,
            _ => ModelLayoutKind.Original, // upstream names, bare or behind ComfyUI's model.diffusion_model.
        };
    }

    /// <inheritdoc />
    public override IDiffusionTransformer LoadTransformer(FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (config, source) = Config(context);
        try
        {
            // Checks the architecture against the header (keys and shapes, on the meta device) before allocating.
            return Lumina2Checkpoint.LoadModel(context.TransformerWeights, config, context.Options.Device, context.Options.DType, context.Options.QuantizedWeights);
        }
        catch (CheckpointMismatchException e)
        {
            throw new LuminaException($"{source} (dim {config.Dim}, {config.Layers} layers, {config.Heads} heads / {config.KvHeadCount} KV, in {config.InChannels}, " +
                                      $"caption {config.CaptionDim}) does not describe '{context.TransformerWeights}'; use the architecture this checkpoint belongs to. {e.Message}", e);
        }
    }

    /// <summary>
    /// The architecture and where it came from: the folder's diffusers <c>transformer/config.json</c>, else the given
    /// config or preset, else the checkpoint header's shapes.
    /// </summary>
    private static (Lumina2Config Config, string Source) Config(FamilyLoadContext context)
    {
        if (context.Options.TransformerFile is { } separate && context.Options.TransformerConfig is null && context.Options.TransformerPreset is null)
        {
            // A separate transformer file (a GGUF, a ComfyUI single file) next to a diffusers folder: its own header
            // decides the shapes and norm_final, and upstream-named weights keep upstream's q/k eps; what shapes cannot
            // tell (patch size, RoPE) comes from the folder's config.
            using var weights = context.OpenTransformerWeights();
            var tensors = weights.Tensors.ToList();
            var defaults = context.Folder.TransformerConfigPath is { } json ? Lumina2Config.FromFile(json) : null;
            if (defaults is not null && Lumina2Checkpoint.RecognizeLayout(tensors.Select(t => t.Name).ToList()) != Lumina2CheckpointLayout.Diffusers)
                defaults = defaults with { QkNormEps = DiTPresets.Lumina2.QkNormEps };
            return (Lumina2Checkpoint.InferConfig(tensors, separate, defaults), $"the architecture read from '{separate}'");
        }
        if (context.Folder.TransformerConfigPath is { } file && context.Options.TransformerConfig is null && context.Options.TransformerPreset is null)
            return (Lumina2Config.FromFile(file), file);
        if (context.Options.TransformerConfig is not null)
            return (context.TransformerConfig<Lumina2Config>(), "the given transformer config");
        if (context.Options.TransformerPreset is { } preset)
            return (context.TransformerConfig<Lumina2Config>(), $"transformer preset '{preset}'");
        using var header = context.OpenTransformerWeights();
        return (Lumina2Checkpoint.InferConfig(header.Tensors.ToList(), context.TransformerWeights), $"the architecture read from '{context.TransformerWeights}'");
    }

    /// <inheritdoc />
    public override ICaptionEncoder LoadCaptionEncoder(string textEncoderFolder, string tokenizerFolder, FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return GemmaCaptionEncoder.FromPretrainedGemma2(textEncoderFolder, tokenizerFolder, context.Options.Device, context.Options.DType);
    }

    /// <summary>The FLUX VAE: a diffusers <c>vae/</c> folder (config.json gives the scaling and shift factors), or a single <c>ae.safetensors</c>.</summary>
    public override IImageLatentSpace LoadLatentSpace(string? vaeFolder, FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return vaeFolder is not null && File.Exists(vaeFolder)
            ? AutoencoderKL.FromSingleFile(vaeFolder, AutoencoderKLConfig.FluxVae, context.Options.Device, context.Options.DType)
            : base.LoadLatentSpace(vaeFolder, context);
    }

    /// <inheritdoc />
    public override void SaveTransformer(IDiffusionTransformer transformer, string folder, int sampleSize)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var model = transformer as Lumina2Transformer
            ?? throw new ArgumentException($"A {DisplayName} pipeline holds a Lumina2Transformer, not a {transformer.GetType().Name}.", nameof(transformer));
        Lumina2Checkpoint.Save(model, Path.Combine(folder, "diffusion_pytorch_model.safetensors"), Lumina2CheckpointLayout.Diffusers);
        File.WriteAllText(Path.Combine(folder, "config.json"), model.Config.ToJson(sampleSize));
    }
}
