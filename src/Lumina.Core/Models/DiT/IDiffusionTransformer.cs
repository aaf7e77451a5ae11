using Lumina.Models.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// The one DiT contract: every Lumina diffusion transformer (Lumina-Next's Next-DiT, Lumina-T2I's Flag-DiT, the music
/// DiT, Lumina-Image 2.0's Unified Next-DiT) maps a <see cref="DiTInput"/> to a velocity with a plain forward.
/// Guidance is not the model's business: it lives in Lumina.Sampling and calls <see cref="Forward"/> on the batch it
/// chooses ([cond; uncond], or the conditional half alone on a truncated step).
/// </summary>
public interface IDiffusionTransformer : IDisposable
{
    /// <summary>The module whose <c>state_dict()</c> is the checkpoint (upstream key names).</summary>
    nn.Module Module { get; }

    /// <summary>Latent channels the model denoises (4 for the SDXL VAE, 16 for the FLUX VAE, 3 in pixel space).</summary>
    int LatentChannels { get; }

    /// <summary>Patch size p: latent sides must be multiples of it (1 for sequence models).</summary>
    int PatchSize { get; }

    /// <summary>Caption feature width the model expects.</summary>
    int CaptionDim { get; }

    /// <summary>Whether the model accepts this kind of conditioning (regional captions need cross-attention).</summary>
    bool Supports(DiTConditioningKind kind);

    /// <summary>Whether the model takes video latents [B, C, F, H, W] (a video Next-DiT) besides images.</summary>
    bool SupportsVideo { get; }

    /// <summary>
    /// The velocity for <see cref="DiTInput.Latents"/> at <see cref="DiTInput.Timesteps"/> (t = 0 noise, t = 1 data),
    /// shaped like the latents. No guidance, no gradient bookkeeping beyond what the caller set up.
    /// </summary>
    Tensor Forward(DiTInput input);
}

/// <summary>Which conditioning a <see cref="DiTInput"/> carries.</summary>
public enum DiTConditioningKind
{
    /// <summary>One caption per sample (<see cref="DiTInput.Captions"/>).</summary>
    Captions = 0,

    /// <summary>One caption per grid region plus a global caption (<see cref="DiTInput.Regions"/>).</summary>
    Regions = 1,
}

/// <summary>
/// One DiT call: latents [B, C, …], timesteps [B] and the conditioning for those B rows. The record does not own the
/// tensors.
/// </summary>
/// <param name="Latents">The state [B, C, …].</param>
/// <param name="Timesteps">Flow times [B] in [0, 1] (0 = noise, 1 = data), in the latents' dtype.</param>
public sealed record DiTInput(Tensor Latents, Tensor Timesteps)
{
    /// <summary>Caption features and mask for the B rows (the usual conditioning).</summary>
    public CaptionEmbeddings? Captions { get; init; }

    /// <summary>Regional captions for compositional generation; null otherwise.</summary>
    public RegionalCaptions? Regions { get; init; }

    /// <summary>Per-call knobs (RoPE scaling, proportional attention, step caching, tracing).</summary>
    public DiTForwardOptions Options { get; init; } = DiTForwardOptions.Default;

    /// <summary>The kind of conditioning this input carries.</summary>
    public DiTConditioningKind Kind => Regions is null ? DiTConditioningKind.Captions : DiTConditioningKind.Regions;
}

/// <summary>Per-call options every DiT understands; a model ignores what it has no use for.</summary>
public sealed record DiTForwardOptions
{
    /// <summary>The defaults: the model's own RoPE table, 1/sqrt(head_dim) attention scale, no caching.</summary>
    public static DiTForwardOptions Default { get; } = new();

    /// <summary>Time-aware RoPE scale factor for resolution extrapolation (sqrt(w·h)/1024); null = the model's table.</summary>
    public double? ScaleFactor { get; init; }

    /// <summary>Switch point of the time-aware scaling (upstream extrapolation preset 0.3; diffusers 1.0).</summary>
    public double ScaleWatershed { get; init; } = 1.0;

    /// <summary>Proportional attention: scale by log of the token count relative to the training resolution.</summary>
    public bool ProportionalAttention { get; init; }

    /// <summary>Step caching (see <see cref="IBlockStackCache"/>); null = always run the blocks.</summary>
    internal IBlockStackCache? BlockCache { get; init; }

    /// <summary>Debug hook called with submodule outputs (names as upstream's submodules); clone what you keep.</summary>
    public Action<string, Tensor>? Trace { get; init; }
}
