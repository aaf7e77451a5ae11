using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// The text-to-music / text-to-audio DiT (upstream <c>FlagDiTv2</c>): Flag-DiT blocks over a 1-D mel latent
/// [B, C, T] with 1-D RoPE, no QK-norm and no patching (<c>proj_in</c> maps each frame). Field names follow the upstream
/// checkpoint (<c>t_embedder</c>, <c>proj_in</c>, <c>blocks.{i}</c>, <c>final_layer</c>, <c>cap_embedder</c>).
/// <para>Upstream's sampler passes t as <c>long(t·1000)</c> (0..1000); pass the same values here.</para>
/// </summary>
public sealed class MusicDiT : DiffusionTransformer<MusicDiTConfig>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly TimestepEmbedder t_embedder;
    private readonly Linear proj_in;
    private readonly ModuleList<FlagDiTBlock> blocks;
    private readonly DiTFinalLayer final_layer;
    private readonly CaptionEmbedder cap_embedder;
#pragma warning restore IDE1006

    /// <summary>Builds the model with uninitialised weights.</summary>
    /// <param name="config">Architecture (see <see cref="Checkpoints.DiTPresets.LuminaT2Music"/>).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Weight dtype (null = float32).</param>
    public MusicDiT(MusicDiTConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(MusicDiT), config)
    {
        var dim = config.Dim;
        t_embedder = new TimestepEmbedder(config.ConditionDim, device: device, dtype: dtype);
        proj_in = nn.Linear(config.InChannels, dim, hasBias: true, device: device, dtype: dtype);
        blocks = new ModuleList<FlagDiTBlock>(Enumerable.Range(0, config.Layers)
            .Select(_ => new FlagDiTBlock(dim, config.Heads, config.KvHeads, config.MultipleOf, config.FfnDimMultiplier, config.NormEps, config.QkNorm,
                config.CaptionDim, dim, device, dtype)).ToArray());
        final_layer = new DiTFinalLayer(dim, dim, config.InChannels, withShift: true, device, dtype);
        cap_embedder = new CaptionEmbedder(config.CaptionDim, dim, device, dtype);
        RegisterComponents();
    }

    /// <summary>
    /// The DiT contract: mel latents [B, C, T] at flow times t ∈ [0, 1]; the upstream sampler's step convention
    /// <c>floor(t·1000)</c> is applied here, so callers pass flow times like for every other DiT. The caption mask is
    /// passed on as the context mask.
    /// </summary>
    public override Tensor Forward(DiTInput input)
    {
        var captions = DiTInputs.RequireCaptions(input, "The music DiT takes captions only, not regional captions.");
        using var scope = NewDisposeScope();
        var steps = input.Timesteps.mul(1000).floor();
        return Forward(input.Latents, steps, captions.Features, captions.Mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Predicts the flow for mel latents <paramref name="x"/> [B, C, T] at steps <paramref name="t"/> [B] with context
    /// [B, L, ContextDim]. Upstream always treats every context token as valid; pass <paramref name="contextMask"/>
    /// [B, L] only if your context is padded (it then masks pooling and cross-attention).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor t, Tensor context, Tensor? contextMask = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(context);
        if (x.dim() != 3 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"Mel latents must be [B, {Config.InChannels}, T]; got {DiTInputs.Shape(x)}.", nameof(x));
        if (x.shape[2] > Config.MaxLength)
            throw new ArgumentException($"{x.shape[2]} frames exceed the rotary table of {Config.MaxLength}; shorten the clip.", nameof(x));
        var b = x.shape[0];
        using var scope = NewDisposeScope();
        var mask = contextMask ?? ones(context.shape[0], context.shape[1], dtype: ScalarType.Int32, device: context.device);
        ValidateConditioning(b, t, context, mask);

        var (wdtype, device) = (proj_in.weight!.dtype, proj_in.weight!.device);
        var h = proj_in.forward(x.to(wdtype, device).transpose(1, 2));
        var ctx = context.to(wdtype, device);
        mask = mask.to(device);
        var adaln = t_embedder.forward(t.to(device)) + cap_embedder.Embed(ctx, mask);
        var capMask = DiTInputs.KeyMaskOrNull(mask);
        var freqs = RotaryEmbedding.Table1D((int)h.shape[1], Config.HeadDim, Config.RopeTheta, device: h.device);
        foreach (var block in blocks)
        {
            var next = block.Forward(h, null, freqs, ctx, capMask, adaln, null);
            h.Dispose();
            h = next;
        }
        h = final_layer.forward(h, adaln);
        return h.transpose(1, 2).contiguous().MoveToOuterDisposeScope();
    }
}
