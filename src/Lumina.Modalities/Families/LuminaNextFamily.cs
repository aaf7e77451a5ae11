using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;

namespace Lumina.Families;

/// <summary>
/// Lumina-Next (Next-DiT + Gemma-2B + SDXL VAE): Lumina-Next-T2I and -SFT, in the original layout
/// (<c>consolidated*.safetensors</c>, architecture from a preset) and the diffusers one (<c>LuminaNextDiT2DModel</c>).
/// Video Next-DiTs (<c>"video": true</c>) are this family too.
/// </summary>
internal class LuminaNextFamily : ImageModelFamily
{
    /// <summary>The registered instance.</summary>
    public static LuminaNextFamily Instance { get; } = new();

    /// <summary>For derived families (<see cref="PixelSpaceDemoFamily"/>).</summary>
    protected LuminaNextFamily()
    {
    }

    /// <inheritdoc />
    public override string Name => "lumina-next";

    /// <inheritdoc />
    public override string DisplayName => "Next-DiT (Lumina-Next)";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, DiTConfig>> Presets { get; } =
        [new("NextDiT-2B-GQA", DiTPresets.NextDiT2BGqa), new("NextDiT-2B", DiTPresets.NextDiT2B)];

    /// <inheritdoc />
    public override SamplingSettings DefaultSettings => TextToImagePresets.LuminaNext;

    /// <inheritdoc />
    public override string DefaultTextEncoderRepo => "google/gemma-2b";

    /// <summary>Token count at the training resolution, for proportional attention: (1024/16)² = 4096.</summary>
    public const int BaseSequenceLength = 4096;

    /// <inheritdoc />
    public override bool Recognizes(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (folder.Layout == ModelLayoutKind.SingleFile) return RecognizeCheckpoint(folder.TransformerTensorNames) is not null;
        if (folder.Layout == ModelLayoutKind.Original)
            return !folder.TransformerTensorNames.Contains("eol_token") && !folder.TransformerTensorNames.Contains("proj_in.weight");
        // Hand-made folders may omit the class name; a folder with a vocoder is a music model.
        return folder.TransformerClass == NextDiTConfig.DiffusersClassName
            || folder.TransformerClass is null && folder.Component("vocoder") is null;
    }

    /// <inheritdoc />
    public override ModelLayoutKind? RecognizeCheckpoint(IReadOnlyCollection<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        if (NextDiTCheckpoint.IsDiffusersLayout(tensorNames)) return ModelLayoutKind.Diffusers;
        return tensorNames.Contains("x_embedder.weight") && !tensorNames.Contains("eol_token")
            && tensorNames.Any(k => k.StartsWith("layers.0.attention_norm1.", StringComparison.Ordinal))
            ? ModelLayoutKind.Original
            : null;
    }

    /// <inheritdoc />
    public override IDiffusionTransformer LoadTransformer(FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dit = LoadModel(context);
        dit.BaseSequenceLength = context.Options.BaseSequenceLength ?? BaseSequenceLength;
        return dit;
    }

    /// <summary>The Next-DiT architecture of the folder: its <c>transformer/config.json</c>, else the given config or preset.</summary>
    internal static NextDiTConfig Config(FamilyLoadContext context) =>
        context.Folder.TransformerConfigPath is { } file ? NextDiTConfig.FromFile(file) : context.TransformerConfig<NextDiTConfig>();

    /// <summary>Builds the Next-DiT and strictly loads its weights (either key layout).</summary>
    internal static NextDiT LoadModel(FamilyLoadContext context, NextDiTConfig? config = null)
    {
        var architecture = config ?? Config(context);
        // Before anything is allocated: a config that disagrees with the checkpoint's header is refused, naming both.
        NextDiTCheckpoint.CheckHeader(architecture, context.TransformerWeights, context.Folder.TransformerConfigPath
            ?? (context.Options.TransformerConfig is not null ? "the given transformer config" : $"transformer preset '{context.Options.TransformerPreset ?? "NextDiT-2B-GQA"}'"));
        return context.LoadTransformerModule(() => new NextDiT(architecture, context.Options.Device, context.Options.DType),
            (dit, source) => NextDiTCheckpoint.Load(dit, source));
    }

    /// <inheritdoc />
    public override string? DiffusersTransformerClass => NextDiTConfig.DiffusersClassName;

    /// <inheritdoc />
    public override void SaveTransformer(IDiffusionTransformer transformer, string folder, int sampleSize)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var model = transformer as NextDiT
            ?? throw new ArgumentException($"A {DisplayName} pipeline holds a NextDiT, not a {transformer.GetType().Name}.", nameof(transformer));
        NextDiTCheckpoint.SaveDiffusers(model, Path.Combine(folder, "diffusion_pytorch_model.safetensors"));
        File.WriteAllText(Path.Combine(folder, "config.json"), model.Config.ToJson(sampleSize));
    }

    /// <inheritdoc />
    public override ICaptionEncoder LoadCaptionEncoder(string textEncoderFolder, string tokenizerFolder, FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return GemmaCaptionEncoder.FromPretrained(textEncoderFolder, tokenizerFolder, context.Options.Device, context.Options.DType);
    }
}
