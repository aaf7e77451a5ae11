using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Tensors;

namespace Lumina.Families;

/// <summary>
/// Lumina-T2I (Flag-DiT 5B + LLaMA-2-7B + SDXL VAE), original layout only (<c>consolidated*.safetensors</c> with an
/// <c>eol_token</c>); diffusers has no Flag-DiT class.
/// </summary>
internal sealed class LuminaT2IFamily : ImageModelFamily
{
    /// <summary>The registered instance.</summary>
    public static LuminaT2IFamily Instance { get; } = new();

    private LuminaT2IFamily()
    {
    }

    /// <inheritdoc />
    public override string Name => "lumina-t2i";

    /// <inheritdoc />
    public override string DisplayName => "Flag-DiT (Lumina-T2I)";

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, DiTConfig>> Presets { get; } = [new("FlagDiT-5B", DiTPresets.FlagDiT5B)];

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, string>> PresetAliases { get; } = [new("DiT-Llama-5B", "FlagDiT-5B")];

    /// <inheritdoc />
    public override SamplingSettings DefaultSettings => TextToImagePresets.LuminaT2I;

    /// <inheritdoc />
    public override string DefaultTextEncoderRepo => "meta-llama/Llama-2-7b-hf";

    /// <summary>Token count at the training resolution, eol tokens included: 64² + 2·64 = 4224 (upstream's value).</summary>
    public const int BaseSequenceLength = 4224;

    /// <inheritdoc />
    public override bool Recognizes(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.Layout switch
        {
            ModelLayoutKind.SingleFile => RecognizeCheckpoint(folder.TransformerTensorNames) is not null,
            ModelLayoutKind.Original => folder.TransformerTensorNames.Contains("eol_token"),
            _ => false,
        };
    }

    /// <inheritdoc />
    public override ModelLayoutKind? RecognizeCheckpoint(IReadOnlyCollection<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        return tensorNames.Contains("x_embedder.weight") && tensorNames.Contains("eol_token") ? ModelLayoutKind.Original : null;
    }

    /// <inheritdoc />
    public override IDiffusionTransformer LoadTransformer(FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dit = context.LoadTransformerModule(() => new FlagDiT(context.TransformerConfig<FlagDiTConfig>(), context.Options.Device, context.Options.DType),
            (model, source) => model.LoadTensors(source));
        dit.BaseSequenceLength = context.Options.BaseSequenceLength ?? BaseSequenceLength;
        return dit;
    }

    /// <inheritdoc />
    public override ICaptionEncoder LoadCaptionEncoder(string textEncoderFolder, string tokenizerFolder, FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return LlamaCaptionEncoder.FromPretrained(textEncoderFolder, tokenizerFolder, context.Options.Device, context.Options.DType);
    }
}
