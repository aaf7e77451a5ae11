using Lumina.Pipelines;

namespace Lumina.Families;

/// <summary>
/// The repository's pixel-space demo model (<c>models/lumina-demo</c>): a Lumina-Next diffusers folder whose
/// <c>model_index.json</c> says <c>"vae": [null, null]</c> and that has no <c>vae/</c>; its Next-DiT denoises RGB pixels.
/// Its default image size is the transformer config's <c>sample_size</c>.
/// </summary>
internal sealed class PixelSpaceDemoFamily : LuminaNextFamily
{
    /// <summary>The registered instance.</summary>
    public static new PixelSpaceDemoFamily Instance { get; } = new();

    private PixelSpaceDemoFamily()
    {
    }

    /// <inheritdoc />
    public override string Name => "pixel-demo";

    /// <inheritdoc />
    public override string DisplayName => "Next-DiT in pixel space (the Lumina.NET demo)";

    /// <inheritdoc />
    public override string? DefaultVaeRepo => null;

    /// <summary>None: its folders always carry <c>transformer/config.json</c> (Lumina-Next's presets stay Lumina-Next's).</summary>
    public override IReadOnlyList<KeyValuePair<string, Models.DiT.DiTConfig>> Presets => [];

    /// <inheritdoc />
    public override bool Recognizes(ModelFolder folder) => folder.IsPixelSpace && base.Recognizes(folder);

    /// <inheritdoc />
    public override ModelLayoutKind? RecognizeCheckpoint(IReadOnlyCollection<string> tensorNames) => null; // its checkpoint is a Next-DiT's

    /// <inheritdoc />
    public override bool NeedsVae(ModelFolder folder) => false;
}
