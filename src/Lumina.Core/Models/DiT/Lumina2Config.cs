using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="Lumina2Transformer"/> (Lumina-Image 2.0's "Unified Next-DiT"), named like
/// upstream <c>NextDiT(...)</c> arguments. The defaults are the released model, upstream
/// <c>NextDiT_2B_GQA_patch2_Adaln_Refiner(in_channels=16, qk_norm=True, cap_feat_dim=2304)</c>; see
/// <see cref="Checkpoints.DiTPresets.Lumina2"/> and <see cref="Checkpoints.DiTPresets.Lumina2Diffusers"/>.
/// </summary>
public sealed record Lumina2Config : IDiTConfig
{
    /// <summary>Patch size p (2).</summary>
    public int PatchSize { get; init; } = 2;

    /// <summary>Latent channels (16 for the FLUX VAE); the model predicts as many.</summary>
    public int InChannels { get; init; } = 16;

    /// <summary>Model width (2304).</summary>
    public int Dim { get; init; } = 2304;

    /// <summary>Number of joint blocks (26).</summary>
    public int Layers { get; init; } = 26;

    /// <summary>Blocks in each refiner: the context refiner over the caption and the noise refiner over the image (2).</summary>
    public int RefinerLayers { get; init; } = 2;

    /// <summary>Query heads (24).</summary>
    public int Heads { get; init; } = 24;

    /// <summary>Key/value heads (8; null = same as heads).</summary>
    public int? KvHeads { get; init; } = 8;

    /// <summary>FFN hidden width is rounded up to a multiple of this (256).</summary>
    public int MultipleOf { get; init; } = 256;

    /// <summary>Optional FFN width multiplier (none).</summary>
    public double? FfnDimMultiplier { get; init; }

    /// <summary>Epsilon of the sandwich RMSNorms and the caption embedder's RMSNorm (1e-5).</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Whether queries and keys get an RMSNorm over the head width (true).</summary>
    public bool QkNorm { get; init; } = true;

    /// <summary>
    /// Epsilon of the q/k RMSNorms: upstream hard-codes 1e-6, diffusers' <c>Lumina2Transformer2DModel</c> uses 1e-5.
    /// </summary>
    public double QkNormEps { get; init; } = 1e-6;

    /// <summary>Caption feature width (2304 = Gemma-2-2B's hidden size).</summary>
    public int CaptionDim { get; init; } = 2304;

    /// <summary>Channels each RoPE axis rotates (caption index, row, column): (32, 32, 32); they sum to the head width.</summary>
    public IReadOnlyList<int> AxesDims { get; init; } = [32, 32, 32];

    /// <summary>Positions per RoPE axis: (300, 512, 512).</summary>
    public IReadOnlyList<int> AxesLens { get; init; } = [300, 512, 512];

    /// <summary>RoPE base θ (10000).</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>
    /// Whether the model has upstream's top-level <c>norm_final</c> RMSNorm. Upstream creates it and keeps it in its
    /// checkpoints but never uses it; diffusers drops it. It does not change the output.
    /// </summary>
    public bool NormFinal { get; init; } = true;

    /// <summary>
    /// SwiGLU hidden width: 4·dim (times <see cref="FfnDimMultiplier"/>) rounded up to <see cref="MultipleOf"/>; unlike
    /// Lumina-Next there is no 2/3 factor (9216 for the released model).
    /// </summary>
    public long FfnHiddenDim => Nn.SwiGluFeedForward.RoundUp(4L * Dim, MultipleOf, FfnDimMultiplier);

    /// <summary>Width of one attention head.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>Key/value heads in use.</summary>
    public int KvHeadCount => KvHeads ?? Heads;

    /// <summary>Width of the adaLN conditioning (the timestep embedding): min(dim, 1024).</summary>
    public int ConditionDim => Math.Min(Dim, 1024);

    /// <summary>The diffusers class name of the Lumina-Image 2.0 transformer.</summary>
    public const string DiffusersClassName = "Lumina2Transformer2DModel";

    /// <summary>
    /// Parses a diffusers transformer <c>config.json</c> of <c>Lumina2Transformer2DModel</c>; absent keys take diffusers'
    /// defaults, and the result describes diffusers' module (q/k eps 1e-5, no <c>norm_final</c>), so its checkpoint loads strictly.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Names the text in error messages.</param>
    /// <exception cref="LuminaException">The JSON is malformed, of another class, or inconsistent.</exception>
    public static Lumina2Config FromJson(string json, string source = "transformer/config.json") =>
        From(() => ConfigJson.Parse(json, source), source);

    /// <summary>Reads a diffusers transformer <c>config.json</c> (the file, or the folder holding it); see <see cref="FromJson"/>.</summary>
    /// <param name="path">File or folder path.</param>
    /// <exception cref="FileNotFoundException">There is no config there.</exception>
    /// <exception cref="LuminaException">The JSON is malformed, of another class, or inconsistent.</exception>
    public static Lumina2Config FromFile(string path) => From(() => ConfigJson.Load(path), path);

    /// <summary>This configuration as the text of a diffusers transformer <c>config.json</c> (its q/k eps and
    /// <c>norm_final</c> are not part of diffusers' config).</summary>
    /// <param name="sampleSize">Latent side at the training resolution (128 for the 1024-px model).</param>
    public string ToJson(int sampleSize = 128) => ConfigJson.Write(new JsonObject
    {
        ["_class_name"] = DiffusersClassName,
        ["sample_size"] = sampleSize,
        ["patch_size"] = PatchSize,
        ["in_channels"] = InChannels,
        ["hidden_size"] = Dim,
        ["num_layers"] = Layers,
        ["num_refiner_layers"] = RefinerLayers,
        ["num_attention_heads"] = Heads,
        ["num_kv_heads"] = KvHeadCount,
        ["multiple_of"] = MultipleOf,
        ["ffn_dim_multiplier"] = FfnDimMultiplier,
        ["norm_eps"] = NormEps,
        ["scaling_factor"] = 1.0,
        ["axes_dim_rope"] = new JsonArray(AxesDims.Select(v => (JsonNode)v).ToArray()),
        ["axes_lens"] = new JsonArray(AxesLens.Select(v => (JsonNode)v).ToArray()),
        ["cap_feat_dim"] = CaptionDim,
    });

    private static Lumina2Config From(Func<ConfigJson> open, string source) => ConfigJson.Read(open, source, c =>
    {
        c.RequireClassName(DiffusersClassName, "Lumina-Image 2.0");
        var d = Checkpoints.DiTPresets.Lumina2Diffusers;
        return d with
        {
            PatchSize = c.Int("patch_size", d.PatchSize),
            InChannels = c.Int("in_channels", d.InChannels),
            Dim = c.Int("hidden_size", d.Dim),
            Layers = c.Int("num_layers", d.Layers),
            RefinerLayers = c.Int("num_refiner_layers", d.RefinerLayers),
            Heads = c.Int("num_attention_heads", d.Heads),
            KvHeads = c.NullableInt("num_kv_heads") ?? d.KvHeads,
            MultipleOf = c.Int("multiple_of", d.MultipleOf),
            FfnDimMultiplier = c.NullableDouble("ffn_dim_multiplier"),
            NormEps = c.Double("norm_eps", d.NormEps),
            CaptionDim = c.Int("cap_feat_dim", d.CaptionDim),
            AxesDims = c.IntArray("axes_dim_rope") ?? d.AxesDims,
            AxesLens = c.IntArray("axes_lens") ?? d.AxesLens,
        };
    }, config => config.Validate());

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (PatchSize < 1) throw new ArgumentException($"PatchSize must be ≥ 1; got {PatchSize}.");
        if (InChannels < 1) throw new ArgumentException($"InChannels must be ≥ 1; got {InChannels}.");
        if (Layers < 0) throw new ArgumentException($"Layers must be ≥ 0; got {Layers}.");
        if (RefinerLayers < 0) throw new ArgumentException($"RefinerLayers must be ≥ 0; got {RefinerLayers}.");
        if (Heads < 1 || Dim % Heads != 0) throw new ArgumentException($"Dim ({Dim}) must be a multiple of Heads ({Heads}).");
        if (KvHeadCount < 1 || Heads % KvHeadCount != 0) throw new ArgumentException($"KvHeads ({KvHeadCount}) must divide Heads ({Heads}).");
        if (MultipleOf < 1) throw new ArgumentException($"MultipleOf must be ≥ 1; got {MultipleOf}.");
        if (CaptionDim < 1) throw new ArgumentException($"CaptionDim must be ≥ 1; got {CaptionDim}.");
        if (AxesDims is null || AxesLens is null || AxesDims.Count != 3 || AxesLens.Count != 3)
            throw new ArgumentException("AxesDims and AxesLens need three entries each (caption index, row, column).");
        if (AxesDims.Any(d => d <= 0 || d % 2 != 0)) throw new ArgumentException($"AxesDims must be positive and even; got ({string.Join(", ", AxesDims)}).");
        if (AxesLens.Any(l => l <= 0)) throw new ArgumentException($"AxesLens must be positive; got ({string.Join(", ", AxesLens)}).");
        if (AxesDims.Sum() != HeadDim)
            throw new ArgumentException($"AxesDims ({string.Join(", ", AxesDims)}) must sum to the head width Dim/Heads = {HeadDim}.");
        if (!(NormEps > 0) || !(QkNormEps > 0)) throw new ArgumentException($"NormEps and QkNormEps must be positive; got {NormEps} and {QkNormEps}.");
        if (!(RopeTheta > 0)) throw new ArgumentException($"RopeTheta must be positive; got {RopeTheta}.");
    }
}
