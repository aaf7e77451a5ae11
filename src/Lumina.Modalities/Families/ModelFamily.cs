using Lumina.Models.DiT;
using Lumina.Pipelines;

namespace Lumina.Families;

/// <summary>What a family's pipeline produces.</summary>
internal enum ModelTask
{
    /// <summary>Images from text (<see cref="TextToImagePipeline"/>; video models are Lumina-Next image families too).</summary>
    TextToImage,

    /// <summary>Audio from text (<see cref="Audio.TextToAudioPipeline"/>).</summary>
    TextToAudio,
}

/// <summary>
/// One model family (Lumina-Next, Lumina-T2I, Lumina-Music, the pixel-space demo, …): how to recognise its folders and
/// checkpoints, and what its defaults are. Image families derive from <see cref="ImageModelFamily"/>, which also loads
/// the components. Register a new family with <see cref="ModelFamilies.Register"/>; builders, loaders, DI and the CLI ask
/// <see cref="ModelFamilies"/>, so adding a family needs no other change.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>A short stable name (<c>lumina-next</c>), used on the command line and in errors.</summary>
    public abstract string Name { get; }

    /// <summary>A human name naming the architecture and the release (<c>Next-DiT (Lumina-Next)</c>).</summary>
    public abstract string DisplayName { get; }

    /// <summary>What its pipeline produces.</summary>
    internal abstract ModelTask Task { get; }

    /// <summary>
    /// Named architectures of this family (upstream keeps them in a pickled <c>model_args.pth</c>), by canonical name
    /// (<c>NextDiT-2B-GQA</c>). Original-layout folders use them; the first one is the default.
    /// </summary>
    public virtual IReadOnlyList<KeyValuePair<string, DiTConfig>> Presets => [];

    /// <summary>Other names a preset is known by upstream (<c>DiT_Llama_5B</c>), mapped to a canonical name.</summary>
    public virtual IReadOnlyList<KeyValuePair<string, string>> PresetAliases => [];

    /// <summary>True when <paramref name="folder"/> holds this family (either layout).</summary>
    public abstract bool Recognizes(ModelFolder folder);

    /// <summary>
    /// When a transformer checkpoint's tensor names are this family's, the layout of those names; else null. Used by
    /// <c>lumina info</c> and for single-file checkpoints.
    /// </summary>
    public virtual ModelLayoutKind? RecognizeCheckpoint(IReadOnlyCollection<string> tensorNames) => null;

    /// <inheritdoc />
    public override string ToString() => DisplayName;
}
