using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;

namespace Lumina.Families;

/// <summary>
/// A text-to-image family: it loads the transformer, the caption encoder and the latent space of its folders, and
/// names its default settings and the component repos an original-layout folder lacks.
/// </summary>
public abstract class ImageModelFamily : ModelFamily
{
    /// <inheritdoc />
    internal override ModelTask Task => ModelTask.TextToImage;

    /// <summary>The upstream demo settings of the family (a folder's scheduler config may change the time shift).</summary>
    public abstract SamplingSettings DefaultSettings { get; }

    /// <summary>The text-encoder repo upstream reads, for folders without <c>text_encoder/</c>.</summary>
    public abstract string DefaultTextEncoderRepo { get; }

    /// <summary>The VAE repo for folders without <c>vae/</c> (null = the family needs none).</summary>
    public virtual string? DefaultVaeRepo => "stabilityai/sdxl-vae";

    /// <summary>Whether <paramref name="folder"/> needs a VAE (false for a pixel-space model).</summary>
    public virtual bool NeedsVae(ModelFolder folder) => true;

    /// <summary>Builds the transformer and loads its weights (<see cref="FamilyLoadContext.TransformerWeights"/>).</summary>
    public abstract IDiffusionTransformer LoadTransformer(FamilyLoadContext context);

    /// <summary>Loads the tokenizer and text encoder.</summary>
    public abstract ICaptionEncoder LoadCaptionEncoder(string textEncoderFolder, string tokenizerFolder, FamilyLoadContext context);

    /// <summary>Loads the latent space: the VAE in <paramref name="vaeFolder"/>, or pixels when it is null.</summary>
    public virtual IImageLatentSpace LoadLatentSpace(string? vaeFolder, FamilyLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return vaeFolder is null
            ? new PixelSpace(context.Options.Device, context.Options.DType)
            : AutoencoderKL.FromDirectory(vaeFolder, context.Options.Device, context.Options.DType);
    }

    /// <summary>The diffusers class of the transformer, or null when the family has no diffusers layout (SavePretrained refuses).</summary>
    public virtual string? DiffusersTransformerClass => null;

    /// <summary>The diffusers pipeline class written to <c>model_index.json</c>.</summary>
    public virtual string DiffusersPipelineClass => "LuminaText2ImgPipeline";

    /// <summary>The <c>model_index.json</c> entry of the text encoder.</summary>
    public virtual DiffusersComponent DiffusersTextEncoder => new("transformers", "GemmaModel");

    /// <summary>The <c>model_index.json</c> entry of the tokenizer.</summary>
    public virtual DiffusersComponent DiffusersTokenizer => new("transformers", "GemmaTokenizer");

    /// <summary>
    /// Writes <paramref name="transformer"/> into a diffusers <c>transformer/</c> folder (weights under diffusers names and
    /// <c>config.json</c> with <paramref name="sampleSize"/>).
    /// </summary>
    /// <exception cref="NotSupportedException">The family has no diffusers layout.</exception>
    public virtual void SaveTransformer(IDiffusionTransformer transformer, string folder, int sampleSize) =>
        throw new NotSupportedException($"{DisplayName} has no diffusers layout.");

    /// <summary>
    /// The family's settings for <paramref name="folder"/>: <see cref="DefaultSettings"/>, with the time shift of the
    /// folder's <c>scheduler_config.json</c> when it has one (diffusers samples on that shift), and, when that config sets
    /// <c>use_dynamic_shifting</c>, the config itself as <see cref="SamplingSettings.DynamicShifting"/> (each run's shift
    /// then follows its image token count, as diffusers' <c>calculate_shift</c>). The one place the registry reads a
    /// scheduler config.
    /// </summary>
    public virtual SamplingSettings SettingsFor(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (folder.SchedulerConfig is not { } scheduler) return DefaultSettings;
        return DefaultSettings with { TimeShift = scheduler.Shift, DynamicShifting = scheduler.UseDynamicShifting ? scheduler : null };
    }
}
