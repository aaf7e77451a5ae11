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

    /// <summary>
    /// FlagDiT-5B: the released Lumina-T2I (dim 3072, 32 layers, 32 heads, no GQA, QK-norm, learned sigma, patch 2,
    /// LLaMA-2-7B captions of width 4096). 5,046,643,744 parameters.
    /// </summary>
    public static FlagDiTConfig FlagDiT5B { get; } = new()
    {
        PatchSize = 2, InChannels = 4, Dim = 3072, Layers = 32, Heads = 32, KvHeads = null, MultipleOf = 256,
        NormEps = 1e-5, LearnSigma = true, QkNorm = true, CaptionDim = 4096,
    };

    /// <summary>
    /// The Lumina-T2Music DiT (upstream <c>FlagDiTv2</c>): hidden 768, depth 16, 32 heads, FLAN-T5-large context of
    /// width 1024, 20 mel-latent channels, up to 1000 frames. Lumina-T2Audio uses the same architecture.
    /// </summary>
    public static MusicDiTConfig LuminaT2Music { get; } = new()
    {
        InChannels = 20, CaptionDim = 1024, Dim = 768, Layers = 16, Heads = 32, MaxLength = 1000,
    };

    /// <summary>
    /// Lumina-Image 2.0 as upstream builds it (<c>NextDiT_2B_GQA_patch2_Adaln_Refiner(in_channels=16, qk_norm=True,
    /// cap_feat_dim=2304)</c>): dim 2304, 26 layers plus 2 context and 2 noise refiner blocks, 24 heads of 96, 8 KV
    /// heads, q/k RMSNorm eps 1e-6, RoPE axes (32, 32, 32) over (300, 512, 512), 16 latent channels, Gemma-2-2B captions
    /// of width 2304, and the unused <c>norm_final</c>. 2,609,771,456 parameters in 400 keys (the layout of upstream's
    /// checkpoints and ComfyUI's single files).
    /// </summary>
    public static Lumina2Config Lumina2 { get; } = new();

    /// <summary>
    /// Lumina-Image 2.0 as diffusers' <c>Lumina2Transformer2DModel</c> builds it (<c>Alpha-VLLM/Lumina-Image-2.0</c>'s
    /// <c>transformer/</c>): <see cref="Lumina2"/> with q/k RMSNorm eps 1e-5 and no <c>norm_final</c>.
    /// 2,609,769,152 parameters; 459 keys once each <c>qkv</c> is split into <c>to_q/to_k/to_v</c>.
    /// </summary>
    public static Lumina2Config Lumina2Diffusers { get; } = new() { QkNormEps = 1e-5, NormFinal = false };
}
