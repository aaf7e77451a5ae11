using Lumina.Families;
using Lumina.Pipelines;
using Lumina.Tensors;

namespace Lumina.Cli.Inspection;

/// <summary>
/// Tells a model folder meant for another command apart before loading it, from the transformer checkpoint's tensor
/// names (headers only), so <c>lumina music -m &lt;image model&gt;</c> says what the folder is instead of listing
/// hundreds of missing keys.
/// </summary>
internal static class ModelKindCheck
{
    /// <summary>Throws when <paramref name="reference"/> is a local folder whose family (the model-family registry's answer) is not Lumina-T2Music.</summary>
    public static void RequireMusicModel(string reference)
    {
        if (!Directory.Exists(reference))
            return; // a Hub id: the loader reports what it finds
        var family = FamilyOf(reference);
        if (family is null || family is not ImageModelFamily)
            return;
        throw new LuminaException($"'{reference}' is a text-to-image model ({family.DisplayName}), not Lumina-T2Music; use 'lumina generate -m {reference}', or give a Lumina-T2Music folder.");
    }

    private static ModelFamily? FamilyOf(string folder)
    {
        try
        {
            return ModelFamilies.Detect(ModelFolder.Open(folder));
        }
        catch (Exception e) when (e is LuminaException or SafetensorsException or IOException)
        {
            return null; // the loader reports unknown or damaged folders with its own message
        }
    }
}
