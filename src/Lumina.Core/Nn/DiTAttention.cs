using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Lumina.Nn;

/// <summary>
/// The attention of the Lumina DiTs: self-attention over image (or audio) tokens plus gated cross-attention to the
/// caption, summed per head before the output projection.
/// <list type="bullet">
/// <item>Projections without bias: <c>wq</c> (H heads), <c>wk</c>/<c>wv</c> (KV heads, grouped-query when KV &lt; H:
/// query head i reads KV head i / (H/KV)), <c>wo</c>.</item>
/// <item>Optional QK-norm: a LayerNorm with bias over all heads jointly, before the head split (<c>q_norm</c> width
/// H·hd, <c>k_norm</c> and <c>ky_norm</c> width KV·hd).</item>
/// <item>RoPE on queries and self-attention keys (not on caption keys).</item>
/// <item>Cross-attention: <c>wk_y</c>/<c>wv_y</c> from the caption width, the same normed and rotated queries, scale
/// 1/sqrt(hd), the caption mask, and a per-head gate <c>tanh(gate)</c>.</item>
/// </list>
/// <para>
/// The three self-attention projections (and the two caption projections) run as one matmul. Their weights are fused
/// once, when the module is built: <c>wq.weight</c>, <c>wk.weight</c> and <c>wv.weight</c> are views into one
/// [H·hd + 2·KV·hd, dim] tensor, so the checkpoint keys, strict loading and <c>state_dict()</c> stay exactly as
/// upstream's, loading writes straight into the fused tensor, and an in-place edit of a weight (a LoRA merge, an
/// optimizer step) is seen by the fused matmul with no copy. Moving the module (<c>to(dtype)</c>, <c>to(device)</c>)
/// fuses again on the new dtype or device. When autograd has to reach a weight (a training forward with grad
/// enabled) the projections concatenate the three parameters instead, so gradients land on the separate parameters.
/// </para>
/// </summary>
internal sealed class DiTAttention : nn.Module
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Linear wq;
    private readonly Linear wk;
    private readonly Linear wv;
    private readonly Linear? wk_y;
    private readonly Linear? wv_y;
    private readonly Parameter? gate;
    private readonly Linear wo;
    private readonly LayerNorm? q_norm;
    private readonly LayerNorm? k_norm;
    private readonly LayerNorm? ky_norm;
#pragma warning restore IDE1006

    // The fused projection weights; wq/wk/wv (and wk_y/wv_y) hold views into them. Not registered: the checkpoint
    // keys are the views'. Held in a non-Tensor field so RegisterComponents leaves them alone.
    private readonly FusedWeights fused = new();

    /// <summary>Creates the attention.</summary>
    /// <param name="dim">Model width; the head width is dim / heads.</param>
    /// <param name="heads">Number of query heads.</param>
    /// <param name="kvHeads">Number of key/value heads (null = heads). Must divide <paramref name="heads"/>.</param>
    /// <param name="qkNorm">Whether queries and keys get the joint-width LayerNorm.</param>
    /// <param name="captionDim">Caption feature width; 0 disables the cross-attention.</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public DiTAttention(long dim, int heads, int? kvHeads, bool qkNorm, long captionDim, Device? device = null, ScalarType? dtype = null)
        : base(nameof(DiTAttention))
    {
        if (heads <= 0 || dim % heads != 0)
            throw new ArgumentException($"The model width {dim} must split evenly into {heads} heads.", nameof(heads));
        var kv = kvHeads ?? heads;
        if (kv <= 0 || heads % kv != 0)
            throw new ArgumentException($"The number of KV heads ({kv}) must divide the number of heads ({heads}).", nameof(kvHeads));
        Heads = heads;
        KvHeads = kv;
        HeadDim = (int)(dim / heads);
        var qWidth = (long)heads * HeadDim;
        var kvWidth = (long)kv * HeadDim;

        wq = nn.Linear(dim, qWidth, hasBias: false, device: device, dtype: dtype);
        wk = nn.Linear(dim, kvWidth, hasBias: false, device: device, dtype: dtype);
        wv = nn.Linear(dim, kvWidth, hasBias: false, device: device, dtype: dtype);
        if (captionDim > 0)
        {
            wk_y = nn.Linear(captionDim, kvWidth, hasBias: false, device: device, dtype: dtype);
            wv_y = nn.Linear(captionDim, kvWidth, hasBias: false, device: device, dtype: dtype);
            gate = new Parameter(zeros(heads, dtype: dtype ?? ScalarType.Float32, device: device));
        }
        wo = nn.Linear(qWidth, dim, hasBias: false, device: device, dtype: dtype);
        if (qkNorm)
        {
            q_norm = nn.LayerNorm(qWidth, eps: 1e-5, device: device, dtype: dtype);
            k_norm = nn.LayerNorm(kvWidth, eps: 1e-5, device: device, dtype: dtype);
            if (captionDim > 0) ky_norm = nn.LayerNorm(kvWidth, eps: 1e-5, device: device, dtype: dtype);
        }
        RegisterComponents();
        Fuse();
    }

    private sealed class FusedWeights
    {
        public Tensor? SelfQkv;
        public Parameter?[] SelfViews = [];
        public Tensor? CrossKv;
        public Parameter?[] CrossViews = [];
    }

    // Re-points the projection weights at views of one fused tensor each (self: q, k, v; cross: k_y, v_y), keeping
    // their values, dtype, device and requires_grad.
    private void Fuse()
    {
        using var _ = no_grad();
        fused.SelfQkv?.Dispose();
        fused.CrossKv?.Dispose();
        (fused.SelfQkv, fused.SelfViews) = FuseInto([wq, wk, wv]);
        (fused.CrossKv, fused.CrossViews) = HasCrossAttention ? FuseInto([wk_y!, wv_y!]) : (null, []);
    }

    private static (Tensor Fused, Parameter?[] Views) FuseInto(Linear[] linears)
    {
        var weights = linears.Select(l => l.weight!).ToArray();
        var first = weights[0];
        var rows = weights.Sum(w => w.shape[0]);
        var fusedWeight = empty([rows, first.shape[1]], dtype: first.dtype, device: first.device).DetachFromDisposeScope();
        var views = new Parameter?[linears.Length];
        long offset = 0;
        for (var i = 0; i < linears.Length; i++)
        {
            var old = weights[i];
            var rowsOfThis = old.shape[0];
            var view = fusedWeight.narrow(0, offset, rowsOfThis);
            if (old.device_type != DeviceType.META) view.copy_(old);
            var requiresGrad = old.requires_grad;
            var parameter = new Parameter(view, requiresGrad);
            linears[i].weight = parameter;
            views[i] = parameter;
            if (!ReferenceEquals(old, parameter) && !old.IsInvalid) old.Dispose();
            offset += rowsOfThis;
        }
        return (fusedWeight, views);
    }

    // The fused weight when every view is still the module's weight and autograd need not reach them; else the
    // concatenation of the current weights (a training forward, or a weight someone replaced).
    private static Tensor ProjectionWeight(Tensor? fusedWeight, Parameter?[] views, Linear[] linears, out bool isTemporary)
    {
        var intact = fusedWeight is not null;
        var needsGrad = false;
        for (var i = 0; i < linears.Length; i++)
        {
            var w = linears[i].weight!;
            intact &= ReferenceEquals(w, views[i]);
            needsGrad |= w.requires_grad;
        }
        isTemporary = !intact || (needsGrad && is_grad_enabled());
        return isTemporary ? cat(linears.Select(l => (Tensor)l.weight!).ToArray(), 0) : fusedWeight!;
    }

    /// <inheritdoc />
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        Fuse(); // the move replaced the views with separate tensors: fuse again where they now live
    }

    /// <summary>Number of query heads.</summary>
    public int Heads { get; }

    /// <summary>Number of key/value heads.</summary>
    public int KvHeads { get; }

    /// <summary>Width of one head.</summary>
    public int HeadDim { get; }

    /// <summary>Whether the block has the gated caption cross-attention.</summary>
    public bool HasCrossAttention => wk_y is not null;

    /// <summary>
    /// The self-attention softmax scale with proportional attention: <c>sqrt(log_base(N) / hd)</c>, where N is the
    /// (padded) token count and base the training sequence length.
    /// </summary>
    public static double ProportionalScale(long tokens, long baseSequenceLength, int headDim)
    {
        if (tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens));
        if (baseSequenceLength < 2) throw new ArgumentOutOfRangeException(nameof(baseSequenceLength), baseSequenceLength, "The base sequence length must be at least 2.");
        return Math.Sqrt(Math.Log(tokens) / Math.Log(baseSequenceLength) / headDim);
    }

    /// <summary>Runs the attention.</summary>
    /// <param name="x">Tokens [B, N, dim].</param>
    /// <param name="xMask">
    /// Optional key mask [B, N] (nonzero/true = real token); null = no padding. A mask is always applied: pass null
    /// when nothing is masked (the models decide that once per forward, so no layer waits on the device for it).
    /// </param>
    /// <param name="freqsCis">Rotary table, complex64 [N, hd/2] or [B, N, hd/2].</param>
    /// <param name="y">Caption features [B, L, captionDim] (already normed by the block), or null without cross-attention.</param>
    /// <param name="yMask">
    /// Optional caption mask: [B, L] (a key mask) or [B, N, L] (which caption tokens each image token may attend to,
    /// e.g. compositional generation's per-region captions; every row needs at least one true entry). Null = all
    /// tokens valid (pass null rather than an all-true mask: the unmasked attention kernel is faster).
    /// </param>
    /// <param name="softmaxScale">Self-attention scale; null = 1/sqrt(hd).</param>
    public Tensor Forward(Tensor x, Tensor? xMask, Tensor freqsCis, Tensor? y, Tensor? yMask, double? softmaxScale = null)
    {
        if (x.dim() != 3 || x.shape[2] != wq.weight!.shape[1])
            throw new ArgumentException($"Attention input must be [B, N, {wq.weight!.shape[1]}]; got [{string.Join(", ", x.shape)}].", nameof(x));
        if (HasCrossAttention && y is null)
            throw new ArgumentException("This attention has a caption cross-attention; pass the caption features.", nameof(y));
        using var scope = NewDisposeScope();
        var (b, n) = (x.shape[0], x.shape[1]);
        var hd = HeadDim;
        var rep = Heads / KvHeads;
        var qWidth = (long)Heads * hd;
        var kvWidth = (long)KvHeads * hd;

        var qkv = F.linear(x, ProjectionWeight(fused.SelfQkv, fused.SelfViews, [wq, wk, wv], out _));
        var q = qkv.narrow(-1, 0, qWidth);
        var k = qkv.narrow(-1, qWidth, kvWidth);
        var v = qkv.narrow(-1, qWidth + kvWidth, kvWidth);
        if (q_norm is not null) q = q_norm.forward(q);
        if (k_norm is not null) k = k_norm.forward(k);

        q = RotaryEmbedding.Apply(q.reshape(b, n, Heads, hd), freqsCis);
        k = RotaryEmbedding.Apply(k.reshape(b, n, KvHeads, hd), freqsCis);

        var qg = GroupQueries(q, KvHeads);
        var kg = k.permute(0, 2, 1, 3);
        var vg = v.reshape(b, n, KvHeads, hd).permute(0, 2, 1, 3);

        var defaultScale = 1.0 / Math.Sqrt(hd);
        var scale = softmaxScale ?? defaultScale;
        var qs = scale == defaultScale ? qg : qg * (scale * Math.Sqrt(hd));
        var selfMask = KeyMask(xMask, b, n);
        var output = F.scaled_dot_product_attention(qs, kg, vg, selfMask);

        if (HasCrossAttention)
        {
            var l = y!.shape[1];
            var ykv = F.linear(y, ProjectionWeight(fused.CrossKv, fused.CrossViews, [wk_y!, wv_y!], out _));
            var yk = ykv.narrow(-1, 0, kvWidth);
            if (ky_norm is not null) yk = ky_norm.forward(yk);
            var ykg = yk.reshape(b, l, KvHeads, hd).permute(0, 2, 1, 3);
            var yvg = ykv.narrow(-1, kvWidth, kvWidth).reshape(b, l, KvHeads, hd).permute(0, 2, 1, 3);
            var crossMask = yMask is not null && yMask.dim() == 3 ? QueryKeyMask(yMask, b, n, l, rep) : KeyMask(yMask, b, l);
            var outY = F.scaled_dot_product_attention(qg, ykg, yvg, crossMask);
            var g = gate!.tanh().view(1, KvHeads, rep, 1, 1);
            output = output.view(b, KvHeads, rep, n, hd).addcmul(outY.view(b, KvHeads, rep, n, hd), g, 1);
        }

        return wo.forward(MergeGroups(output, n, KvHeads)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Grouped-query attention over rotated heads: queries [B, N, H, hd], keys and values [B, N, KV, hd] (KV divides
    /// H; query head i reads KV head i / (H/KV)), an optional key mask [B, N] (true/nonzero = attend), and the softmax
    /// scale (null = 1/sqrt(hd)). Returns [B, N, H·hd]. K and V are never repeated: the H/KV query heads that share a
    /// KV head are stacked along the sequence, so one attention call covers the group.
    /// </summary>
    public static Tensor GroupedAttention(Tensor q, Tensor k, Tensor v, Tensor? keyMask, double? softmaxScale = null)
    {
        if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || !k.shape.SequenceEqual(v.shape)
            || q.shape[0] != k.shape[0] || q.shape[1] != k.shape[1] || q.shape[3] != k.shape[3] || k.shape[2] < 1 || q.shape[2] % k.shape[2] != 0)
            throw new ArgumentException(
                $"Grouped attention needs q [B, N, H, hd] and k, v [B, N, KV, hd] with KV dividing H; got q [{string.Join(", ", q.shape)}], k [{string.Join(", ", k.shape)}], v [{string.Join(", ", v.shape)}].");
        using var scope = NewDisposeScope();
        var (b, n, kv, hd) = (q.shape[0], q.shape[1], (int)k.shape[2], q.shape[3]);
        var qg = GroupQueries(q, kv);
        var defaultScale = 1.0 / Math.Sqrt(hd);
        var scale = softmaxScale ?? defaultScale;
        var qs = scale == defaultScale ? qg : qg * (scale * Math.Sqrt(hd));
        var output = F.scaled_dot_product_attention(qs, k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3), KeyMask(keyMask, b, n));
        return MergeGroups(output, n, kv).MoveToOuterDisposeScope();
    }

    // [B, N, H, hd] -> the grouped layout [B, KV, (H/KV)·N, hd]: the query heads sharing a KV head stacked along the sequence.
    private static Tensor GroupQueries(Tensor q, int kvHeads)
    {
        var (b, n, h, hd) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]);
        var rep = h / kvHeads;
        return rep == 1
            ? q.permute(0, 2, 1, 3)
            : q.view(b, n, kvHeads, rep, hd).permute(0, 2, 3, 1, 4).reshape(b, kvHeads, rep * n, hd);
    }

    // The grouped layout [B, KV, rep·N, hd] (or [B, KV, rep, N, hd]) back to tokens [B, N, KV·rep·hd].
    private static Tensor MergeGroups(Tensor output, long n, int kvHeads)
    {
        var (b, hd) = (output.shape[0], output.shape[^1]);
        var rep = output.numel() / (b * kvHeads * n * hd);
        return output.view(b, kvHeads, rep, n, hd).permute(0, 3, 1, 2, 4).reshape(b, n, kvHeads * rep * hd);
    }

    // A per-query mask [B, N, L] in the grouped query layout [B, KV, rep·N, hd]: each query row repeats per head group.
    private static Tensor? QueryKeyMask(Tensor mask, long b, long n, long l, int rep)
    {
        if (mask.shape[0] != b || mask.shape[1] != n || mask.shape[2] != l)
            throw new ArgumentException($"A per-token caption mask must be [B, N, L] = [{b}, {n}, {l}]; got [{string.Join(", ", mask.shape)}].", nameof(mask));
        var m = mask.dtype == ScalarType.Bool ? mask : mask.ne(0);
        var perQuery = m.view(b, 1, n, l);
        return rep == 1 ? perQuery : perQuery.unsqueeze(2).expand(b, 1, rep, n, l).reshape(b, 1, (long)rep * n, l);
    }

    private static Tensor? KeyMask(Tensor? mask, long b, long n)
    {
        if (mask is null) return null;
        if (mask.dim() != 2 || mask.shape[0] != b || mask.shape[1] != n)
            throw new ArgumentException($"A key mask must be [B, N] = [{b}, {n}]; got [{string.Join(", ", mask.shape)}].", nameof(mask));
        var m = mask.dtype == ScalarType.Bool ? mask : mask.ne(0);
        return m.view(b, 1, 1, n); // no check for "nothing masked" here: that would sync the host in every layer

    }
}
