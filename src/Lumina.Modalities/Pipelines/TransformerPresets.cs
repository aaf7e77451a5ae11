using Lumina.Checkpoints;
using Lumina.Models.DiT;

namespace Lumina.Pipelines;

/// <summary>The image DiT families a text-to-image pipeline runs.</summary>
public enum TransformerFamily
{
    /// <summary>Next-DiT (Lumina-Next-T2I / -SFT): Gemma captions, midpoint by default.</summary>
    NextDiT,

    /// <summary>Flag-DiT (Lumina-T2I): LLaMA captions, Euler by default.</summary>
    FlagDiT,
}

/// <summary>
/// Named DiT architectures, standing in for upstream's pickled <c>model_args.pth</c> next to original checkpoints.
/// </summary>
public static class TransformerPresets
{
    /// <summary>
    /// Looks a preset up: <c>NextDiT-2B-GQA</c> (Lumina-Next-T2I/-SFT), <c>NextDiT-2B</c>, <c>FlagDiT-5B</c> (Lumina-T2I).
    /// Case-insensitive; '_' and '-' alike, an upstream <c>_patch2</c> suffix is accepted.
    /// </summary>
    /// <returns>The family and its config (exactly one of the two configs is set).</returns>
    public static (TransformerFamily Family, NextDiTConfig? Next, FlagDiTConfig? Flag) Preset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim().Replace('_', '-').ToLowerInvariant();
        if (key.EndsWith("-patch2", StringComparison.Ordinal)) key = key[..^"-patch2".Length];
        return key switch
        {
            "nextdit-2b-gqa" => (TransformerFamily.NextDiT, DiTPresets.NextDiT2BGqa, null),
            "nextdit-2b" => (TransformerFamily.NextDiT, DiTPresets.NextDiT2B, null),
            "flagdit-5b" or "dit-llama-5b" => (TransformerFamily.FlagDiT, null, DiTPresets.FlagDiT5B),
            _ => throw new ArgumentException($"Unknown DiT preset '{name}'; use NextDiT-2B-GQA, NextDiT-2B or FlagDiT-5B, or pass a config.", nameof(name)),
        };
    }

    /// <summary>The upstream demo settings of a family.</summary>
    public static TextToImageSettings DefaultSettings(TransformerFamily family) =>
        family == TransformerFamily.FlagDiT ? TextToImagePresets.LuminaT2I : TextToImagePresets.LuminaNext;

    /// <summary>The text-encoder repo upstream reads for a family.</summary>
    public static string DefaultTextEncoderRepo(TransformerFamily family) =>
        family == TransformerFamily.FlagDiT ? "meta-llama/Llama-2-7b-hf" : "google/gemma-2b";
}
