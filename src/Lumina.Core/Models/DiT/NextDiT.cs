using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// Next-DiT (Lumina-Next): a flow-matching diffusion transformer over patchified latents with 2-D RoPE, sandwich
/// norms, grouped-query attention and gated caption cross-attention. Field names follow the upstream checkpoint
/// (<c>x_embedder</c>, <c>t_embedder</c>, <c>cap_embedder</c>, <c>layers.{i}</c>, <c>final_layer</c>,
/// <c>pad_token</c>), so <c>state_dict()</c> matches <c>consolidated*.safetensors</c> without remapping.
/// <para>The model predicts the velocity x1 − x0 at time t ∈ [0, 1] (t = 0 noise, t = 1 data).</para>
/// </summary>
public sealed partial class NextDiT : DiffusionTransformer<NextDiTConfig>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Linear x_embedder;
    private readonly TimestepEmbedder t_embedder;
    private readonly CaptionEmbedder cap_embedder;
    private readonly ModuleList<NextDiTBlock> layers;
    private readonly DiTFinalLayer final_layer;
    private readonly Parameter pad_token;
#pragma warning restore IDE1006

    /// <summary>Builds the model with uninitialised weights (load a checkpoint next).</summary>
    /// <param name="config">Architecture; see <see cref="Checkpoints.DiTPresets"/> for the released ones.</param>
    /// <param name="device">Device for the weights (null = CPU; <c>new Device("meta")</c> allocates nothing).</param>
    /// <param name="dtype">Weight dtype (null = float32, the CPU default).</param>
    public NextDiT(NextDiTConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(NextDiT), config, baseSequenceLength: 4096)
    {
        var dim = config.Dim;
        var condDim = config.ConditionDim;
        x_embedder = nn.Linear((long)config.PatchSize * config.PatchSize * config.InChannels, dim, hasBias: true, device: device, dtype: dtype);
        t_embedder = new TimestepEmbedder(condDim, device: device, dtype: dtype);
        cap_embedder = new CaptionEmbedder(config.CaptionDim, condDim, device, dtype);
        layers = new ModuleList<NextDiTBlock>(Enumerable.Range(0, config.Layers).Select(_ => new NextDiTBlock(config, device, dtype)).ToArray());
        final_layer = new DiTFinalLayer(dim, condDim, (long)config.PatchSize * config.PatchSize * config.OutChannels, withShift: false, device, dtype);
        pad_token = new Parameter(empty(dim, dtype: dtype ?? ScalarType.Float32, device: device));
        if (config.Video) nextframe_token = new Parameter(empty(dim, dtype: dtype ?? ScalarType.Float32, device: device));
        RegisterComponents();
    }

    /// <summary>A video model (<see cref="NextDiTConfig.Video"/>) takes [B, C, F, H, W] latents.</summary>
    public override bool SupportsVideo => Config.Video;

    /// <summary>Captions and regional captions (compositional generation) both.</summary>
    public override bool Supports(DiTConditioningKind kind) => kind is DiTConditioningKind.Captions or DiTConditioningKind.Regions;

    /// <summary>
    /// The DiT contract: latents [B, C, H, W] (or [B, C, F, H, W] for a video model) with captions run
    /// <see cref="Forward(Tensor, Tensor, Tensor, Tensor, NextDiTForwardOptions?)"/> (or <see cref="ForwardVideo"/>); with
    /// regional captions, <see cref="ForwardCompositional"/>. The learned-sigma half is dropped, so the velocity has the
    /// latents' shape.
    /// </summary>
    public override Tensor Forward(DiTInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = input.Options ?? DiTForwardOptions.Default;
        var options = new NextDiTForwardOptions
        {
            ScaleFactor = o.ScaleFactor,
            ScaleWatershed = o.ScaleWatershed,
            BaseSequenceLength = o.ProportionalAttention ? BaseSequenceLength : null,
            BlockCache = o.BlockCache,
            Trace = o.Trace,
        };
        if (input.Regions is { } regions) return ForwardCompositional(input.Latents, input.Timesteps, regions, options);
        var captions = input.Captions
            ?? throw new ArgumentException("The DiT input carries no conditioning; set Captions (or Regions for compositional generation).", nameof(input));
        return input.Latents is { } x && x.dim() == 5
            ? ForwardVideo(x, input.Timesteps, captions.Features, captions.Mask, options)
            : Forward(input.Latents, input.Timesteps, captions.Features, captions.Mask, options);
    }

    /// <summary>The transformer blocks.</summary>
    internal IReadOnlyList<NextDiTBlock> Layers => layers.ToList();

    /// <summary>
    /// The rotary table a call uses for a grid of <paramref name="rows"/>×<paramref name="cols"/> patches, complex64
    /// [rows·cols, hd/2]. With <paramref name="options"/>.ScaleFactor set, the time-aware scaling reads
    /// <paramref name="t0"/>. A video model (<see cref="NextDiTConfig.Video"/>) sees an image as a 1-frame video: its
    /// table is the 3-D one at frame 0.
    /// </summary>
    public Tensor RotaryTable(int rows, int cols, double t0 = 1.0, NextDiTForwardOptions? options = null)
        => Config.Video
            ? VideoRotaryTable(1, rows, cols, t0, options)
            : RotaryEmbedding.Table2D(rows, cols, Config.HeadDim, Config.RopeTheta, RopeScalingFor(t0, options), pad_token.device);

    /// <summary>
    /// Forward over a batch of equally sized latents.
    /// </summary>
    /// <param name="x">Latents [B, C, H, W]; H and W multiples of the patch size.</param>
    /// <param name="t">Timesteps [B] in [0, 1].</param>
    /// <param name="captionFeatures">Text-encoder features [B, L, CaptionDim].</param>
    /// <param name="captionMask">Caption mask [B, L] (1 = token, 0 = padding).</param>
    /// <param name="options">RoPE scaling, proportional attention, output layout and tracing.</param>
    /// <returns>The velocity [B, C, H, W] (or [B, 2C, H, W] with <see cref="NextDiTForwardOptions.KeepLearnedSigma"/>).</returns>
    public Tensor Forward(Tensor x, Tensor t, Tensor captionFeatures, Tensor captionMask, NextDiTForwardOptions? options = null)
    {
        ValidateLatents(x);
        ValidateConditioning(x.shape[0], t, captionFeatures, captionMask);
        options ??= Default;

        using var scope = NewDisposeScope();
        var (tokens, rows, cols) = EmbedPatches(x, options);
        var freqs = RotaryTable(rows, cols, FirstTimestep(t, options), options);

        var hidden = RunTransformer(tokens, null, freqs, t, captionFeatures, captionMask, options);
        return ToLatents(hidden, x.shape[2], x.shape[3], options).MoveToOuterDisposeScope();
    }

    // [B, C, H, W] → patch tokens [B, (H/p)·(W/p), dim] and the patch grid.
    private (Tensor Tokens, int Rows, int Cols) EmbedPatches(Tensor x, NextDiTForwardOptions options)
    {
        var p = Config.PatchSize;
        var (rows, cols) = ((int)(x.shape[2] / p), (int)(x.shape[3] / p));
        var tokens = x_embedder.forward(Patchify.ToPatches(x.to(x_embedder.weight!.dtype, x_embedder.weight!.device), p));
        options.Trace?.Invoke("x_embedder", tokens);
        return (tokens.reshape(x.shape[0], (long)rows * cols, Config.Dim), rows, cols);
    }

    // Final-layer tokens [B, ≥(H/p)·(W/p), p²·C'] → latents [B, C (or C'), H, W].
    private Tensor ToLatents(Tensor hidden, long height, long width, NextDiTForwardOptions options)
    {
        var image = Patchify.FromPatches(hidden, Config.PatchSize, height, width, Config.OutChannels);
        return Config.LearnSigma && !options.KeepLearnedSigma ? image.narrow(1, 0, Config.InChannels).contiguous() : image;
    }

    /// <summary>
    /// Forward over differently sized latents (upstream's list input): each [C, Hi, Wi] is patchified, the sequences
    /// are padded with the learned <c>pad_token</c> (padded positions repeat the last RoPE entry and are masked as
    /// keys), and each output is cut back to its own size.
    /// </summary>
    public IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> x, Tensor t, Tensor captionFeatures, Tensor captionMask, NextDiTForwardOptions? options = null)
    {
        ValidateLatents(x);
        ValidateConditioning(x.Count, t, captionFeatures, captionMask);
        options ??= Default;
        var p = Config.PatchSize;

        using var scope = NewDisposeScope();
        var t0 = FirstTimestep(t, options);
        var embeds = new List<Tensor>();
        var tables = new List<Tensor>();
        foreach (var img in x)
        {
            var (rows, cols) = ((int)(img.shape[1] / p), (int)(img.shape[2] / p));
            var patches = Patchify.ToPatches(img.unsqueeze(0).to(x_embedder.weight!.dtype, x_embedder.weight!.device), p);
            embeds.Add(x_embedder.forward(patches).reshape((long)rows * cols, Config.Dim));
            tables.Add(RotaryTable(rows, cols, t0, options));
        }

        var (tokens, mask, lengths) = DiTInputs.Pad(embeds, pad_token);
        var maxLen = tokens.shape[1];
        // Padded positions repeat each item's last rotary entry, as upstream does.
        var freqs = stack(tables.Select((tb, i) => lengths[i] == maxLen ? tb
            : cat([tb, tb.narrow(0, lengths[i] - 1, 1).expand(maxLen - lengths[i], -1)], 0)), 0);

        var hidden = RunTransformer(tokens, mask, freqs, t, captionFeatures, captionMask, options);
        var outputs = new List<Tensor>();
        for (var i = 0; i < x.Count; i++)
        {
            var img = Patchify.FromPatches(hidden.narrow(0, i, 1), p, x[i].shape[1], x[i].shape[2], Config.OutChannels).squeeze(0);
            if (Config.LearnSigma && !options.KeepLearnedSigma) img = img.narrow(0, 0, Config.InChannels);
            outputs.Add(img.contiguous().MoveToOuterDisposeScope());
        }
        return outputs;
    }

    private static readonly NextDiTForwardOptions Default = new();

    private Tensor RunTransformer(Tensor tokens, Tensor? mask, Tensor freqs, Tensor t, Tensor captionFeatures, Tensor captionMask, NextDiTForwardOptions options)
        => RunTransformer(tokens, mask, freqs, t, captionFeatures, captionMask, captionFeatures, captionMask, options);

    /// <summary>
    /// The shared trunk. The cross-attention reads <paramref name="crossFeatures"/> with <paramref name="crossMask"/>
    /// ([B, L] per caption, or [B, N, L] per image token); adaLN reads the pooled <paramref name="pooledFeatures"/>.
    /// </summary>
    private Tensor RunTransformer(Tensor tokens, Tensor? mask, Tensor freqs, Tensor t, Tensor crossFeatures, Tensor crossMask,
        Tensor pooledFeatures, Tensor pooledMask, NextDiTForwardOptions options)
    {
        var wdtype = x_embedder.weight!.dtype;
        var tEmb = t_embedder.forward(t.to(x_embedder.weight!.device));
        options.Trace?.Invoke("t_embedder", tEmb);
        var pooled = pooledFeatures.to(wdtype, x_embedder.weight!.device);
        var capEmb = cap_embedder.Embed(pooled, pooledMask.to(pooled.device));
        options.Trace?.Invoke("cap_embedder", capEmb);
        var adaln = tEmb + capEmb;
        var cap = ReferenceEquals(crossFeatures, pooledFeatures) ? pooled : crossFeatures.to(wdtype, x_embedder.weight!.device);
        var capMask = DiTInputs.KeyMaskOrNull(crossMask.to(cap.device));

        var scale = ProportionalScale(tokens.shape[1], options.BaseSequenceLength);
        var h = tokens;
        var cache = options.BlockCache;
        if (cache is not null && layers.Count > 0 && cache.ReusableResidual(layers[0].ModulatedInput(tokens, adaln)) is { } residual)
            h = tokens + residual; // step caching: the blocks' earlier residual stands in for running them
        else
        {
            for (var i = 0; i < layers.Count; i++)
            {
                var next = layers[i].Forward(h, mask, freqs, cap, capMask, adaln, scale);
                if (!ReferenceEquals(h, tokens)) h.Dispose(); // keep one layer's activations alive, not all of them
                h = next;
                options.Trace?.Invoke($"layers.{i}", h);
            }
            cache?.Store(tokens, h);
        }
        h = final_layer.forward(h, adaln);
        options.Trace?.Invoke("final_layer", h);
        return h;
    }

    private RopeScaling RopeScalingFor(double t0, NextDiTForwardOptions? options)
        => options?.ScaleFactor is double s
            ? RopeScaling.TimeAware(s, options.ScaleWatershed, t0)
            : RopeScaling.TimeAware(Config.ScaleFactor, 1.0, 1.0);

    private static double FirstTimestep(Tensor t, NextDiTForwardOptions options)
        => options.ScaleFactor is null ? 1.0 : t[0].to_type(ScalarType.Float64).item<double>();
}
