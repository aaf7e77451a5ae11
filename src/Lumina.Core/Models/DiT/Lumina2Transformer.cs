using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// Lumina-Image 2.0's "Unified Next-DiT": one joint sequence per sample, [caption tokens | image tokens], with no
/// cross-attention. The caption goes through <c>cap_embedder</c> (RMSNorm + Linear) and the unmodulated
/// <c>context_refiner</c>; the (ph, pw, c)-ordered patches through <c>x_embedder</c> and the modulated
/// <c>noise_refiner</c>; then the joint sequence through <c>layers</c> and <c>final_layer</c>. The adaLN input is the
/// timestep embedding alone. RoPE has three axes: caption token j sits at (j, 0, 0) and image token (r, c) at
/// (cap_len, r, c) with cap_len the sample's effective (unpadded) caption length.
/// <para>Field names follow the upstream checkpoint keys, so <c>state_dict()</c> matches upstream's checkpoints and
/// ComfyUI's single files (behind <c>model.diffusion_model.</c>) without remapping; diffusers' layout loads through
/// <see cref="Checkpoints.Lumina2Checkpoint"/>. The model predicts the velocity at t ∈ [0, 1] (t = 0 noise, t = 1
/// data); guidance is the caller's (Lumina.Sampling).</para>
/// </summary>
public sealed class Lumina2Transformer : DiffusionTransformer<Lumina2Config>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Linear x_embedder;
    private readonly ModuleList<Lumina2Block> noise_refiner;
    private readonly ModuleList<Lumina2Block> context_refiner;
    private readonly TimestepEmbedder t_embedder;
    private readonly Sequential cap_embedder;
    private readonly ModuleList<Lumina2Block> layers;
    private readonly RmsNorm? norm_final;
    private readonly DiTFinalLayer final_layer;
#pragma warning restore IDE1006
    private readonly RopeTables rope = new();

    /// <summary>Builds the model with uninitialised weights (load a checkpoint next).</summary>
    /// <param name="config">Architecture; see <see cref="Checkpoints.DiTPresets.Lumina2"/> for the released one.</param>
    /// <param name="device">Device for the weights (null = CPU; <c>new Device("meta")</c> allocates nothing).</param>
    /// <param name="dtype">Weight dtype (null = float32).</param>
    public Lumina2Transformer(Lumina2Config config, Device? device = null, ScalarType? dtype = null) : base(nameof(Lumina2Transformer), config)
    {
        var dim = config.Dim;
        var patchWidth = (long)config.PatchSize * config.PatchSize * config.InChannels;
        x_embedder = ModuleFactory.Linear(patchWidth, dim, true, device, dtype);
        noise_refiner = new ModuleList<Lumina2Block>(Enumerable.Range(0, config.RefinerLayers).Select(_ => new Lumina2Block(config, modulated: true, device, dtype)).ToArray());
        context_refiner = new ModuleList<Lumina2Block>(Enumerable.Range(0, config.RefinerLayers).Select(_ => new Lumina2Block(config, modulated: false, device, dtype)).ToArray());
        t_embedder = new TimestepEmbedder(config.ConditionDim, device: device, dtype: dtype);
        cap_embedder = nn.Sequential(
            ("0", new RmsNorm(config.CaptionDim, config.NormEps, device, dtype)),
            ("1", ModuleFactory.Linear(config.CaptionDim, dim, true, device, dtype)));
        layers = new ModuleList<Lumina2Block>(Enumerable.Range(0, config.Layers).Select(_ => new Lumina2Block(config, modulated: true, device, dtype)).ToArray());
        if (config.NormFinal) norm_final = new RmsNorm(dim, config.NormEps, device, dtype);
        final_layer = new DiTFinalLayer(dim, config.ConditionDim, patchWidth, withShift: false, device, dtype);
        RegisterComponents();
    }

    /// <summary>
    /// Weights materialized one block at a time, or null (every weight is dense). When set, each block of
    /// <see cref="ContextRefiner"/>, <see cref="NoiseRefiner"/> and <see cref="Layers"/> runs inside
    /// <c>BlockWeights.Use(block)</c>, so a GGUF loaded with <see cref="Tensors.QuantizedWeightsMode.KeepQuantized"/>
    /// (<see cref="Checkpoints.Lumina2Checkpoint.LoadModel"/>) dequantizes that block's matrices just before it runs and
    /// drops them right after. The model owns what it is given: it is disposed with the model (when disposable) and
    /// when replaced.
    /// </summary>
    internal Tensors.IBlockWeights? BlockWeights
    {
        get => _blockWeights;
        set
        {
            if (ReferenceEquals(value, _blockWeights)) return;
            (_blockWeights as IDisposable)?.Dispose();
            _blockWeights = value;
        }
    }

    private Tensors.IBlockWeights? _blockWeights;

    /// <summary>
    /// True when some weights are kept quantized and materialized one block at a time (a GGUF loaded with
    /// <see cref="Tensors.QuantizedWeightsMode.KeepQuantized"/>); such a model cannot have adapters merged into it.
    /// </summary>
    public bool KeepsQuantizedWeights => _blockWeights is not null;

    /// <summary>The main joint blocks.</summary>
    internal IReadOnlyList<Lumina2Block> Layers => layers.ToList();

    /// <summary>The noise refiner (modulated blocks over the image tokens).</summary>
    internal IReadOnlyList<Lumina2Block> NoiseRefiner => noise_refiner.ToList();

    /// <summary>The context refiner (unmodulated blocks over the caption tokens).</summary>
    internal IReadOnlyList<Lumina2Block> ContextRefiner => context_refiner.ToList();

    /// <inheritdoc />
    /// <remarks>
    /// Reads <see cref="DiTForwardOptions.Trace"/> and <see cref="DiTForwardOptions.BlockCache"/> (over the main
    /// layers); Lumina-Image 2.0 has no time-aware RoPE scaling or proportional attention, so the other options are
    /// ignored.
    /// </remarks>
    public override Tensor Forward(DiTInput input)
    {
        var captions = DiTInputs.RequireCaptions(input, "Lumina-Image 2.0 has no cross-attention, so regional captions do not apply; pass DiTInput.Captions.");
        return Forward(input.Latents, input.Timesteps, captions.Features, captions.Mask, input.Options);
    }

    /// <summary>Forward over a batch of equally sized latents (upstream <c>forward(x, t, cap_feats, cap_mask)</c>).</summary>
    /// <param name="x">Latents [B, C, H, W]; H and W multiples of the patch size.</param>
    /// <param name="t">Timesteps [B] in [0, 1].</param>
    /// <param name="captionFeatures">Text-encoder features [B, L, CaptionDim].</param>
    /// <param name="captionMask">Caption mask [B, L], right-padded (1 = token, 0 = padding).</param>
    /// <param name="options">Tracing and step caching; see <see cref="Forward(DiTInput)"/>.</param>
    /// <returns>The velocity [B, C, H, W].</returns>
    public Tensor Forward(Tensor x, Tensor t, Tensor captionFeatures, Tensor captionMask, DiTForwardOptions? options = null)
    {
        ValidateLatents(x);
        var captionLengths = CaptionLengths(x.shape[0], t, captionFeatures, captionMask);
        var p = Config.PatchSize;
        var grid = ((int)(x.shape[2] / p), (int)(x.shape[3] / p));
        ValidateGrid(grid, 0);
        options ??= DiTForwardOptions.Default;

        using var scope = NewDisposeScope();
        var patches = Patchify.ToPatchesChannelsLast(x.to(WeightType, WeightDevice), p);
        patches = patches.reshape(x.shape[0], (long)grid.Item1 * grid.Item2, patches.shape[3]);
        var grids = Enumerable.Repeat(grid, (int)x.shape[0]).ToArray();
        var hidden = RunJoint(patches, grids, t, captionFeatures, captionMask, captionLengths, options);
        var images = new Tensor[grids.Length];
        for (var i = 0; i < grids.Length; i++)
            images[i] = ImageTokens(hidden, i, captionLengths[i], grid, x.shape[2], x.shape[3]);
        return cat(images, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Forward over differently sized latents (upstream's list input): each [C, Hi, Wi] becomes its own number of
    /// image tokens; shorter ones are padded with zero patches (so their embedding is <c>x_embedder</c>'s bias), masked
    /// as keys in the noise refiner and given zero RoPE, and each output is cut back to its own size.
    /// </summary>
    public IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> x, Tensor t, Tensor captionFeatures, Tensor captionMask, DiTForwardOptions? options = null)
    {
        ValidateLatents(x);
        var p = Config.PatchSize;
        var grids = new (int Rows, int Cols)[x.Count];
        for (var i = 0; i < x.Count; i++)
        {
            grids[i] = ((int)(x[i].shape[1] / p), (int)(x[i].shape[2] / p));
            ValidateGrid(grids[i], i);
        }
        var captionLengths = CaptionLengths(x.Count, t, captionFeatures, captionMask);
        options ??= DiTForwardOptions.Default;

        using var scope = NewDisposeScope();
        var maxImage = grids.Max(g => (long)g.Rows * g.Cols);
        var rows = new Tensor[x.Count];
        for (var i = 0; i < x.Count; i++)
        {
            var tokens = Patchify.ToPatchesChannelsLast(x[i].unsqueeze(0).to(WeightType, WeightDevice), p).reshape((long)grids[i].Rows * grids[i].Cols, -1);
            rows[i] = tokens.shape[0] == maxImage ? tokens : nn.functional.pad(tokens, [0, 0, 0, maxImage - tokens.shape[0]]);
        }
        var hidden = RunJoint(stack(rows, 0), grids, t, captionFeatures, captionMask, captionLengths, options);
        var outputs = new List<Tensor>(x.Count);
        for (var i = 0; i < x.Count; i++)
            outputs.Add(ImageTokens(hidden, i, captionLengths[i], grids[i], x[i].shape[1], x[i].shape[2]).squeeze(0).MoveToOuterDisposeScope());
        return outputs;
    }

    /// <summary>
    /// The RoPE position ids of the joint sequence, [B, S, 3] int32: caption token j → (j, 0, 0), image token (r, c) →
    /// (cap_len, r, c), the padded tail → (0, 0, 0); S = max over samples of cap_len + image tokens.
    /// </summary>
    /// <param name="captionLengths">Effective caption length per sample.</param>
    /// <param name="grids">Patch grid (rows, cols) per sample.</param>
    public static Tensor PositionIds(IReadOnlyList<long> captionLengths, IReadOnlyList<(int Rows, int Cols)> grids)
    {
        ArgumentNullException.ThrowIfNull(captionLengths);
        ArgumentNullException.ThrowIfNull(grids);
        if (captionLengths.Count != grids.Count || grids.Count == 0)
            throw new ArgumentException($"Give one caption length per image grid; got {captionLengths.Count} and {grids.Count}.", nameof(grids));
        var b = grids.Count;
        var s = Enumerable.Range(0, b).Max(i => captionLengths[i] + (long)grids[i].Rows * grids[i].Cols);
        var ids = new int[b * s * 3];
        for (var i = 0; i < b; i++)
        {
            var capLen = (int)captionLengths[i];
            var baseIndex = i * s * 3;
            for (var j = 0; j < capLen; j++) ids[baseIndex + j * 3] = j;
            var (rowCount, colCount) = grids[i];
            for (var r = 0; r < rowCount; r++)
                for (var c = 0; c < colCount; c++)
                {
                    var at = baseIndex + (capLen + (long)r * colCount + c) * 3;
                    ids[at] = capLen;
                    ids[at + 1] = r;
                    ids[at + 2] = c;
                }
        }
        return tensor(ids, [b, s, 3]);
    }

    private ScalarType WeightType => x_embedder.weight!.dtype;

    private Device WeightDevice => x_embedder.weight!.device;

    // Patch vectors [B, maxImg, p²C] (zero rows past each sample's own count) → final-layer tokens [B, S, p²C].
    private Tensor RunJoint(Tensor patches, (int Rows, int Cols)[] grids, Tensor t, Tensor captionFeatures, Tensor captionMask,
        long[] captionLengths, DiTForwardOptions options)
    {
        var trace = options.Trace;
        var device = WeightDevice;
        var b = grids.Length;
        var imageLengths = grids.Select(g => (long)g.Rows * g.Cols).ToArray();
        var maxImage = patches.shape[1];
        var captionSlots = captionFeatures.shape[1];

        var adaln = t_embedder.forward(t.to(device));
        trace?.Invoke("t_embedder", adaln);
        var cap = cap_embedder.forward(captionFeatures.to(WeightType, device));
        trace?.Invoke("cap_embedder", cap);

        // RoPE: the joint table, and the caption and image parts with zeros at padded slots (q and k become 0 there).
        var tables = rope.For(Config, device);
        var positions = PositionIds(captionLengths, grids).to(device);
        trace?.Invoke("position_ids", positions);
        var freqs = RotaryEmbedding.LookupAxes(tables, positions);
        trace?.Invoke("freqs_cis", view_as_real(freqs));
        var captionValid = Lengths(captionLengths, captionSlots, device);
        var imageValid = Lengths(imageLengths, maxImage, device);
        var capFreqs = RotaryEmbedding.LookupAxes(tables, CaptionPositions(captionLengths, captionSlots).to(device)).mul_(captionValid.unsqueeze(-1).to_type(ScalarType.ComplexFloat32));
        trace?.Invoke("cap_freqs_cis", view_as_real(capFreqs));
        var imgFreqs = RotaryEmbedding.LookupAxes(tables, ImagePositions(captionLengths, grids, maxImage).to(device)).mul_(imageValid.unsqueeze(-1).to_type(ScalarType.ComplexFloat32));
        trace?.Invoke("img_freqs_cis", view_as_real(imgFreqs));
        trace?.Invoke("img_mask", imageValid.to_type(ScalarType.Int32));

        var capKeyMask = captionLengths.All(l => l == captionSlots) ? null : captionValid;
        for (var i = 0; i < context_refiner.Count; i++)
        {
            using (BlockWeights?.Use(context_refiner[i]))
                cap = context_refiner[i].Forward(cap, capKeyMask, capFreqs, null);
            trace?.Invoke($"context_refiner.{i}", cap);
        }

        var img = x_embedder.forward(patches);
        trace?.Invoke("x_embedder", img);
        var imgKeyMask = imageLengths.All(l => l == maxImage) ? null : imageValid;
        for (var i = 0; i < noise_refiner.Count; i++)
        {
            using (BlockWeights?.Use(noise_refiner[i]))
                img = noise_refiner[i].Forward(img, imgKeyMask, imgFreqs, adaln);
            trace?.Invoke($"noise_refiner.{i}", img);
        }

        // The joint sequence: each sample's valid caption tokens, then its image tokens, then zeros to the longest.
        var jointLengths = captionLengths.Zip(imageLengths, (c, n) => c + n).ToArray();
        var s = positions.shape[1];
        var rows = new Tensor[b];
        for (var i = 0; i < b; i++)
        {
            var row = cat([cap[i].narrow(0, 0, captionLengths[i]), img[i].narrow(0, 0, imageLengths[i])], 0);
            rows[i] = jointLengths[i] == s ? row : nn.functional.pad(row, [0, 0, 0, s - jointLengths[i]]);
        }
        var joint = stack(rows, 0);
        trace?.Invoke("joint_input", joint);
        var jointValid = Lengths(jointLengths, s, device);
        trace?.Invoke("joint_mask", jointValid.to_type(ScalarType.Int32));
        var jointKeyMask = jointLengths.All(l => l == s) ? null : jointValid;

        var h = joint;
        var cache = options.BlockCache;
        if (cache is not null && layers.Count > 0 && cache.ReusableResidual(ModulatedInput(layers[0], joint, adaln)) is { } residual)
            h = joint + residual; // step caching: an earlier call's residual stands in for the main layers
        else
        {
            for (var i = 0; i < layers.Count; i++)
            {
                Tensor next;
                using (BlockWeights?.Use(layers[i]))
                    next = layers[i].Forward(h, jointKeyMask, freqs, adaln);
                if (!ReferenceEquals(h, joint)) h.Dispose(); // keep one layer's activations alive, not all of them
                h = next;
                trace?.Invoke($"layers.{i}", h);
            }
            cache?.Store(joint, h);
        }
        h = final_layer.forward(h, adaln);
        trace?.Invoke("final_layer", h);
        return h;
    }

    private Tensor ModulatedInput(Lumina2Block block, Tensor joint, Tensor adaln)
    {
        using (BlockWeights?.Use(block))
            return block.ModulatedInput(joint, adaln);
    }

    // Sample i's image tokens of the final layer → [1, C, H, W].
    private Tensor ImageTokens(Tensor hidden, int i, long captionLength, (int Rows, int Cols) grid, long height, long width)
    {
        var tokens = hidden[i].narrow(0, captionLength, (long)grid.Rows * grid.Cols).unsqueeze(0);
        return Patchify.FromPatches(tokens, Config.PatchSize, height, width, Config.InChannels);
    }

    // [B, n] bool: position j < lengths[i].
    private static Tensor Lengths(long[] lengths, long n, Device device)
        => arange(n, device: device).unsqueeze(0) < tensor(lengths, device: device).unsqueeze(1);

    // Caption slot j of sample i → (j, 0, 0) for real tokens, (0, 0, 0) for padding (zeroed afterwards).
    private static Tensor CaptionPositions(long[] captionLengths, long slots)
    {
        var ids = new int[captionLengths.Length * slots * 3];
        for (var i = 0; i < captionLengths.Length; i++)
            for (var j = 0; j < captionLengths[i]; j++)
                ids[(i * slots + j) * 3] = j;
        return tensor(ids, [captionLengths.Length, slots, 3]);
    }

    // Image token (r, c) of sample i → (cap_len_i, r, c); padding → (0, 0, 0) (zeroed afterwards).
    private static Tensor ImagePositions(long[] captionLengths, (int Rows, int Cols)[] grids, long slots)
    {
        var ids = new int[grids.Length * slots * 3];
        for (var i = 0; i < grids.Length; i++)
        {
            var (rowCount, colCount) = grids[i];
            for (var r = 0; r < rowCount; r++)
                for (var c = 0; c < colCount; c++)
                {
                    var at = (i * slots + (long)r * colCount + c) * 3;
                    ids[at] = (int)captionLengths[i];
                    ids[at + 1] = r;
                    ids[at + 2] = c;
                }
        }
        return tensor(ids, [grids.Length, slots, 3]);
    }

    // Checks t and the caption, and returns each sample's effective caption length (the mask must be right-padded).
    private long[] CaptionLengths(long batch, Tensor t, Tensor captionFeatures, Tensor captionMask)
    {
        ValidateConditioning(batch, t, captionFeatures, captionMask);
        using var scope = NewDisposeScope();
        var valid = DiTInputs.BoolMask(captionMask.cpu());
        var lengths = valid.sum(1, type: ScalarType.Int64).data<long>().ToArray();
        var prefix = arange(valid.shape[1]).unsqueeze(0) < tensor(lengths).unsqueeze(1);
        if (!prefix.eq(valid).all().item<bool>())
            throw new ArgumentException("Lumina-Image 2.0 reads the first cap_len caption tokens of each row: the caption mask must be right-padded (ones, then zeros).", nameof(captionMask));
        var limit = Config.AxesLens[0];
        for (var i = 0; i < lengths.Length; i++)
            if (lengths[i] >= limit)
                throw new ArgumentException($"Caption {i} has {lengths[i]} tokens; this model's RoPE holds at most {limit - 1} (AxesLens[0] − 1).", nameof(captionMask));
        return lengths;
    }

    private void ValidateGrid((int Rows, int Cols) grid, int index)
    {
        if (grid.Rows > Config.AxesLens[1] || grid.Cols > Config.AxesLens[2])
            throw new ArgumentException(
                $"Latent {index} has a {grid.Rows}×{grid.Cols} patch grid; this model's RoPE covers at most {Config.AxesLens[1]}×{Config.AxesLens[2]} patches.");
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rope.Dispose();
            BlockWeights = null;
        }
        base.Dispose(disposing);
    }

    // The per-axis RoPE tables, built once per device on first use (not module state: never in state_dict()).
    private sealed class RopeTables : IDisposable
    {
        private readonly Lock gate = new();
        private Tensor[]? tables;

        public Tensor[] For(Lumina2Config config, Device device)
        {
            lock (gate)
            {
                if (tables is null || tables[0].device_type != device.type || tables[0].device_index != device.index)
                {
                    Dispose();
                    tables = RotaryEmbedding.AxisTables(config.AxesDims, config.AxesLens, config.RopeTheta, device);
                    foreach (var table in tables) table.DetachFromDisposeScope();
                }
                return tables;
            }
        }

        public void Dispose()
        {
            lock (gate)
            {
                if (tables is null) return;
                foreach (var table in tables) table.Dispose();
                tables = null;
            }
        }
    }
}
