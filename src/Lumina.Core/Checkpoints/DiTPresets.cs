using Lumina.Models.DiT;

namespace Lumina.Checkpoints;

/// <summary>
/// Named architectures of the released Lumina DiTs (upstream keeps them in a pickled <c>model_args.pth</c>, which
/// we never unpickle). Build on <c>new Device("meta")</c> to inspect shapes and parameter counts without memory.
/// </summary>
public static class DiTPresets
{
    /// <summary>
    /// NextDiT-2B-GQA: the released Lumina-Next-T2I and Lumina-Next-SFT (dim 2304, 24 layers, 32 heads of 72, 8 KV
    /// heads, QK-norm, learned sigma, patch 2, Gemma-2B captions of width 2048). 1,627,386,400 parameters.
    /// </summary>
    public static NextDiTConfig NextDiT2BGqa { get; } = new()
    {
        PatchSize = 2, InChannels = 4, Dim = 2304, Layers = 24, Heads = 32, KvHeads = 8, MultipleOf = 256,
        NormEps = 1e-5, LearnSigma = true, QkNorm = true, CaptionDim = 2048,
    };

    /// <summary>NextDiT-2B without GQA (upstream <c>NextDiT_2B_patch2</c>: 32 KV heads), otherwise as <see cref="NextDiT2BGqa"/>.</summary>
    public static NextDiTConfig NextDiT2B { get; } = NextDiT2BGqa with { KvHeads = null };
}
