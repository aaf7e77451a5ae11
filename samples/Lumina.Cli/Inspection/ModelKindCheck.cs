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
    private const string MusicFamily = "music DiT";

    /// <summary>Throws when <paramref name="reference"/> is a local folder whose transformer is not a Lumina-T2Music DiT.</summary>
    public static void RequireMusicModel(string reference)
    {
        if (!Directory.Exists(reference))
            return; // a Hub id: the loader reports what it finds
        var family = TransformerFamily(reference);
        if (family is null || family.StartsWith(MusicFamily, StringComparison.Ordinal) || family == "unknown")
            return;
        throw new LuminaException($"'{reference}' is a text-to-image model ({family}), not Lumina-T2Music; use 'lumina generate -m {reference}', or give a Lumina-T2Music folder.");
    }

    private static string? TransformerFamily(string folder)
    {
        var weights = ModelFolder.WeightsIn(Path.Combine(folder, "transformer"), "diffusion_pytorch_model")
            ?? Directory.EnumerateFiles(folder, "consolidated*.safetensors").Order(StringComparer.Ordinal).FirstOrDefault();
        if (weights is null)
            return null;
        try
        {
            using var checkpoint = SafetensorsCheckpoint.Open(weights);
            return ModelFamilies.Detect(checkpoint.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal), null).Family;
        }
        catch (Exception e) when (e is SafetensorsException or IOException)
        {
            return null; // the loader reports damaged files with its own message
        }
    }
}
