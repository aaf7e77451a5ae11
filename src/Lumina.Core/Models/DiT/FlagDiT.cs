using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// Flag-DiT (Lumina-T2I, upstream <c>DiT_Llama</c>): a flow-matching DiT with 1-D RoPE over the flattened token
/// sequence and the <c>[nextline]</c> token: a learned <c>eol_token</c> follows every patch row, so an image of
/// H/p×W/p patches is a sequence of H/p·(W/p + 1) tokens. Field names follow the upstream checkpoint.
/// </summary>
public sealed class FlagDiT : DiffusionTransformer<FlagDiTConfig>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Linear x_embedder;
    private readonly TimestepEmbedder t_embedder;
    private readonly CaptionEmbedder cap_embedder;
    private readonly ModuleList<FlagDiTBlock> layers;
    private readonly DiTFinalLayer final_layer;
    private readonly Parameter eol_token;
    private readonly Parameter pad_token;
#pragma warning restore IDE1006

    /// <summary>Builds the model with uninitialised weights.</summary>
    /// <param name="config">Architecture (see <see cref="Checkpoints.DiTPresets.FlagDiT5B"/>).</param>
    /// <param name="device">Device of the weights (null = CPU; meta allocates nothing).</param>
    /// <param name="dtype">Weight dtype (null = float32).</param>
    public FlagDiT(FlagDiTConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(FlagDiT), config, baseSequenceLength: 4224)
    {
        var dim = config.Dim;
        var condDim = config.ConditionDim;
        x_embedder = nn.Linear((long)config.PatchSize * config.PatchSize * config.InChannels, dim, hasBias: true, device: device, dtype: dtype);
        t_embedder = new TimestepEmbedder(condDim, device: device, dtype: dtype);
        cap_embedder = new CaptionEmbedder(config.CaptionDim, condDim, device, dtype);
        layers = new ModuleList<FlagDiTBlock>(Enumerable.Range(0, config.Layers)
            .Select(_ => new FlagDiTBlock(dim, config.Heads, config.KvHeads, config.MultipleOf, config.FfnDimMultiplier, config.NormEps,
                config.QkNorm, config.CaptionDim, condDim, device, dtype)).ToArray());
        final_layer = new DiTFinalLayer(dim, condDim, (long)config.PatchSize * config.PatchSize * config.OutChannels, withShift: true, device, dtype);
        eol_token = new Parameter(empty(dim, dtype: dtype ?? ScalarType.Float32, device: device));
        pad_token = new Parameter(empty(dim, dtype: dtype ?? ScalarType.Float32, device: device));
        RegisterComponents();
    }

    /// <summary>
    /// The DiT contract. Resolution extrapolation for Flag-DiT is NTK scaling of the 1-D RoPE by the area ratio to
    /// 1024², i.e. the square of <see cref="DiTForwardOptions.ScaleFactor"/>; the watershed and step caching do not apply.
    /// </summary>
    public override Tensor Forward(DiTInput input)
    {
        var captions = DiTInputs.RequireCaptions(input, "Flag-DiT (Lumina-T2I) has no compositional forward; use a Lumina-Next (Next-DiT) model for regional captions.");
        var o = input.Options ?? DiTForwardOptions.Default;
        return Forward(input.Latents, input.Timesteps, captions.Features, captions.Mask, new FlagDiTForwardOptions
        {
            NtkFactor = o.ScaleFactor is { } s ? s * s : null,
            BaseSequenceLength = o.ProportionalAttention ? BaseSequenceLength : null,
            Trace = o.Trace,
        });
    }

    /// <summary>The transformer blocks.</summary>
    internal IReadOnlyList<FlagDiTBlock> Layers => layers.ToList();

    /// <summary>
    /// The 1-D rotary table for the first <paramref name="length"/> positions: θ·ntk_factor, positions divided by
    /// rope_scaling_factor (complex64 [length, hd/2]).
    /// </summary>
    public Tensor RotaryTable(int length, FlagDiTForwardOptions? options = null)
    {
        if (length > Config.MaxSequenceLength)
            throw new ArgumentException($"{length} tokens exceed the model's rotary table of {Config.MaxSequenceLength} positions; use a smaller image or raise MaxSequenceLength.", nameof(length));
        return RotaryEmbedding.Table1D(length, Config.HeadDim, Config.RopeTheta,
            options?.RopeScalingFactor ?? Config.RopeScalingFactor, options?.NtkFactor ?? Config.NtkFactor, eol_token.device);
    }

    /// <summary>Forward over a batch of equally sized latents [B, C, H, W]; returns [B, C, H, W] (2C with KeepLearnedSigma).</summary>
    public Tensor Forward(Tensor x, Tensor t, Tensor captionFeatures, Tensor captionMask, FlagDiTForwardOptions? options = null)
    {
        ValidateLatents(x);
        var b = x.shape[0];
        ValidateConditioning(b, t, captionFeatures, captionMask);
        var p = Config.PatchSize;
        options ??= Default;

        using var scope = NewDisposeScope();
        var (rows, cols) = (x.shape[2] / p, x.shape[3] / p);
        var tokens = x_embedder.forward(Patchify.ToPatches(x.to(x_embedder.weight!.dtype, x_embedder.weight!.device), p));
        options.Trace?.Invoke("x_embedder", tokens);
        tokens = cat([tokens, eol_token.view(1, 1, 1, -1).expand(b, rows, 1, -1)], 2).reshape(b, rows * (cols + 1), Config.Dim);
        var freqs = RotaryTable((int)tokens.shape[1], options);

        var hidden = RunTransformer(tokens, null, freqs, t, captionFeatures, captionMask, options);
        var image = FromTokens(hidden, x.shape[2], x.shape[3]);
        if (Config.LearnSigma && !options.KeepLearnedSigma) image = image.narrow(1, 0, Config.InChannels).contiguous();
        return image.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Forward over differently sized latents [C, Hi, Wi]: sequences (each with its eol tokens) are padded with
    /// <c>pad_token</c> and masked as keys; the 1-D RoPE simply continues over the padding.
    /// </summary>
    public IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> x, Tensor t, Tensor captionFeatures, Tensor captionMask, FlagDiTForwardOptions? options = null)
    {
        ValidateLatents(x);
        ValidateConditioning(x.Count, t, captionFeatures, captionMask);
        options ??= Default;
        var p = Config.PatchSize;

        using var scope = NewDisposeScope();
        var embeds = new List<Tensor>();
        foreach (var img in x)
        {
            var (rows, cols) = (img.shape[1] / p, img.shape[2] / p);
            var e = x_embedder.forward(Patchify.ToPatches(img.unsqueeze(0).to(x_embedder.weight!.dtype, x_embedder.weight!.device), p)).squeeze(0);
            e = cat([e, eol_token.view(1, 1, -1).expand(rows, 1, -1)], 1).reshape(rows * (cols + 1), Config.Dim);
            embeds.Add(e);
        }
        var (tokens, mask, _) = DiTInputs.Pad(embeds, pad_token);
        var freqs = RotaryTable((int)tokens.shape[1], options);

        var hidden = RunTransformer(tokens, mask, freqs, t, captionFeatures, captionMask, options);
        var outputs = new List<Tensor>();
        for (var i = 0; i < x.Count; i++)
        {
            var img = FromTokens(hidden.narrow(0, i, 1), x[i].shape[1], x[i].shape[2]).squeeze(0);
            if (Config.LearnSigma && !options.KeepLearnedSigma) img = img.narrow(0, 0, Config.InChannels);
            outputs.Add(img.contiguous().MoveToOuterDisposeScope());
        }
        return outputs;
    }

    private static readonly FlagDiTForwardOptions Default = new();

    private Tensor FromTokens(Tensor hidden, long height, long width)
    {
        var p = Config.PatchSize;
        var (rows, cols) = (height / p, width / p);
        var b = hidden.shape[0];
        var grid = hidden.narrow(1, 0, rows * (cols + 1)).reshape(b, rows, cols + 1, hidden.shape[2]).narrow(2, 0, cols);
        return Patchify.FromPatches(grid.reshape(b, rows * cols, hidden.shape[2]), p, height, width, Config.OutChannels);
    }

    private Tensor RunTransformer(Tensor tokens, Tensor? mask, Tensor freqs, Tensor t, Tensor captionFeatures, Tensor captionMask, FlagDiTForwardOptions options)
    {
        var tEmb = t_embedder.forward(t.to(x_embedder.weight!.device));
        options.Trace?.Invoke("t_embedder", tEmb);
        var cap = captionFeatures.to(x_embedder.weight!.dtype, x_embedder.weight!.device);
        captionMask = captionMask.to(cap.device);
        var capEmb = cap_embedder.Embed(cap, captionMask);
        options.Trace?.Invoke("cap_embedder", capEmb);
        var adaln = tEmb + capEmb;
        var capMask = DiTInputs.KeyMaskOrNull(captionMask);
        var scale = ProportionalScale(tokens.shape[1], options.BaseSequenceLength);
        var h = tokens;
        for (var i = 0; i < layers.Count; i++)
        {
            var next = layers[i].Forward(h, mask, freqs, cap, capMask, adaln, scale);
            if (!ReferenceEquals(h, tokens)) h.Dispose(); // keep one layer's activations alive, not all of them
            h = next;
            options.Trace?.Invoke($"layers.{i}", h);
        }
        h = final_layer.forward(h, adaln);
        options.Trace?.Invoke("final_layer", h);
        return h;
    }
}
