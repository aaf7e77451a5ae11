using Lumina.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// The part of <see cref="IDiffusionTransformer"/> every Lumina DiT (<see cref="NextDiT"/>, <see cref="FlagDiT"/>,
/// <see cref="MusicDiT"/>, <see cref="Lumina2Transformer"/>) has in common: its architecture, the contract properties
/// read from it, the base of proportional attention, and the input checks of the forwards.
/// </summary>
/// <typeparam name="TConfig">The architecture record.</typeparam>
public abstract class DiffusionTransformer<TConfig> : nn.Module, IDiffusionTransformer where TConfig : DiTConfig
{
    private int _baseSequenceLength;

    private protected DiffusionTransformer(string name, TConfig config, int baseSequenceLength = 4096) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _baseSequenceLength = baseSequenceLength;
    }

    /// <summary>The architecture.</summary>
    public TConfig Config { get; }

    /// <summary>
    /// Token count at the training resolution, the base of proportional attention (<see cref="DiTForwardOptions.ProportionalAttention"/>):
    /// (1024/16)² = 4096 for Lumina-Next, 64² + 2·64 = 4224 for Lumina-T2I (eol tokens included); upstream's values.
    /// Models without proportional attention ignore it.
    /// </summary>
    public int BaseSequenceLength
    {
        get => _baseSequenceLength;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2, nameof(BaseSequenceLength));
            _baseSequenceLength = value;
        }
    }

    /// <inheritdoc />
    nn.Module IDiffusionTransformer.Module => this;

    /// <inheritdoc />
    public int LatentChannels => Config.InChannels;

    /// <inheritdoc />
    public int PatchSize => Config.PatchSize;

    /// <inheritdoc />
    public int CaptionDim => Config.CaptionDim;

    /// <summary>Per-sample captions; a model with a regional (compositional) forward also takes regions.</summary>
    public virtual bool Supports(DiTConditioningKind kind) => kind == DiTConditioningKind.Captions;

    /// <summary>False: only a video Next-DiT (<see cref="NextDiTConfig.Video"/>) takes video latents.</summary>
    public virtual bool SupportsVideo => false;

    /// <inheritdoc />
    public abstract Tensor Forward(DiTInput input);

    /// <summary>Refuses latents that are not [B, C, H, W] with sides that are multiples of the patch size.</summary>
    private protected void ValidateLatents(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 4 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"Latents must be [B, {Config.InChannels}, H, W]; got {DiTInputs.Shape(x)}.", nameof(x));
        Patchify.CheckDivisible(x.shape[2], x.shape[3], Config.PatchSize);
    }

    /// <summary>Refuses an empty list input or one whose items are not [C, Hi, Wi] with sides that are multiples of the patch size.</summary>
    private protected void ValidateLatents(IReadOnlyList<Tensor> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Count == 0) throw new ArgumentException("Pass at least one latent.", nameof(x));
        for (var i = 0; i < x.Count; i++)
        {
            if (x[i] is null || x[i].dim() != 3 || x[i].shape[0] != Config.InChannels)
                throw new ArgumentException($"Latent {i} must be [{Config.InChannels}, H, W]; got {(x[i] is null ? "null" : DiTInputs.Shape(x[i]))}.", nameof(x));
            Patchify.CheckDivisible(x[i].shape[1], x[i].shape[2], Config.PatchSize);
        }
    }

    /// <summary>Refuses timesteps and captions that do not fit a batch of <paramref name="batch"/>.</summary>
    private protected void ValidateConditioning(long batch, Tensor t, Tensor captionFeatures, Tensor captionMask)
        => DiTInputs.ValidateConditioning(batch, t, captionFeatures, captionMask, Config.CaptionDim);

    /// <summary>Proportional attention's scale for <paramref name="tokens"/> tokens, or null when the call did not ask for it.</summary>
    private protected double? ProportionalScale(long tokens, int? baseSequenceLength)
        => baseSequenceLength is int baseLen ? DiTAttention.ProportionalScale(tokens, baseLen, Config.HeadDim) : null;
}
