using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="NextDiT"/>, named like upstream <c>NextDiT(...)</c> arguments. Defaults are
/// the released Lumina-Next-T2I / -SFT model (NextDiT-2B-GQA); see <see cref="Checkpoints.DiTPresets"/>.
/// </summary>
public sealed record NextDiTConfig : IDiTConfig
{
    /// <summary>Patch size p (2).</summary>
    public int PatchSize { get; init; } = 2;

    /// <summary>Latent channels (4 for the SDXL VAE).</summary>
    public int InChannels { get; init; } = 4;

    /// <summary>Model width (2304).</summary>
    public int Dim { get; init; } = 2304;

    /// <summary>Number of blocks (24).</summary>
    public int Layers { get; init; } = 24;

    /// <summary>Query heads (32).</summary>
    public int Heads { get; init; } = 32;

    /// <summary>Key/value heads (8 for the GQA model; null = same as heads).</summary>
    public int? KvHeads { get; init; } = 8;

    /// <summary>FFN hidden width is rounded up to a multiple of this (256).</summary>
    public int MultipleOf { get; init; } = 256;

    /// <summary>Optional FFN width multiplier (none).</summary>
    public double? FfnDimMultiplier { get; init; }

    /// <summary>RMSNorm epsilon (1e-5).</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Whether the model predicts 2·C channels (the second half is dropped by the forward).</summary>
    public bool LearnSigma { get; init; } = true;

    /// <summary>Joint-width LayerNorm on queries and keys.</summary>
    public bool QkNorm { get; init; } = true;

    /// <summary>Caption feature width (2048 for Gemma-2B).</summary>
    public int CaptionDim { get; init; } = 2048;

    /// <summary>
    /// Upstream's constructor <c>scale_factor</c>: the default rotary table is built as time-aware scaling at t = 1 with
    /// watershed 1, i.e. NTK-scaled by this factor. 1 = unscaled.
    /// </summary>
    public double ScaleFactor { get; init; } = 1.0;

    /// <summary>RoPE base θ (10000).</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>
    /// A video model: adds the learned <c>nextframe_token</c> that separates frames in
    /// <see cref="NextDiT.ForwardVideo"/> and uses 3-D RoPE over (frame, row, col), which needs a head width divisible
    /// by 6. No upstream video checkpoint exists; see docs/models-dit.md for the layout.
    /// </summary>
    public bool Video { get; init; }

    /// <summary>Output channels of the final layer (2·C with learned sigma).</summary>
    public int OutChannels => LearnSigma ? 2 * InChannels : InChannels;

    /// <summary>Width of one attention head.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>The diffusers class name of Next-DiT (<c>_class_name</c> of its <c>transformer/config.json</c>).</summary>
    public const string DiffusersClassName = "LuminaNextDiT2DModel";

    /// <summary>
    /// Parses a diffusers transformer <c>config.json</c> of <c>LuminaNextDiT2DModel</c> (absent keys keep the defaults). A
    /// video model is marked with <c>"video": true</c>, a key of Lumina.NET's own (no upstream video checkpoint exists).
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Names the text in error messages.</param>
    /// <exception cref="LuminaException">The JSON is malformed, of another class, or inconsistent.</exception>
    public static NextDiTConfig FromJson(string json, string source = "transformer/config.json") =>
        From(() => ConfigJson.Parse(json, source), source);

    /// <summary>Reads a diffusers transformer <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    /// <exception cref="FileNotFoundException">There is no config there.</exception>
    /// <exception cref="LuminaException">The JSON is malformed, of another class, or inconsistent.</exception>
    public static NextDiTConfig FromFile(string path) => From(() => ConfigJson.Load(path), path);

    /// <summary>This configuration as the text of a diffusers transformer <c>config.json</c> (readable by <see cref="FromJson"/>).</summary>
    /// <param name="sampleSize">Latent side at the training resolution (128 for 1024-px models).</param>
    public string ToJson(int sampleSize = 128)
    {
        var root = new JsonObject
        {
            ["_class_name"] = DiffusersClassName,
            ["sample_size"] = sampleSize,
            ["patch_size"] = PatchSize,
            ["in_channels"] = InChannels,
            ["hidden_size"] = Dim,
            ["num_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["num_kv_heads"] = KvHeads ?? Heads,
            ["multiple_of"] = MultipleOf,
            ["ffn_dim_multiplier"] = FfnDimMultiplier,
            ["norm_eps"] = NormEps,
            ["learn_sigma"] = LearnSigma,
            ["qk_norm"] = QkNorm,
            ["cross_attention_dim"] = CaptionDim,
            ["scaling_factor"] = ScaleFactor,
        };
        // Lumina.NET's own key: a video model (nextframe_token, 3-D RoPE). diffusers has no video Lumina class.
        if (Video) root["video"] = true;
        return ConfigJson.Write(root);
    }

    private static NextDiTConfig From(Func<ConfigJson> open, string source) => ConfigJson.Read(open, source, c =>
    {
        c.RequireClassName(DiffusersClassName, "Lumina-Next");
        var d = new NextDiTConfig();
        return new NextDiTConfig
        {
            PatchSize = c.Int("patch_size", d.PatchSize),
            InChannels = c.Int("in_channels", d.InChannels),
            Dim = c.Int("hidden_size", d.Dim),
            Layers = c.Int("num_layers", d.Layers),
            Heads = c.Int("num_attention_heads", d.Heads),
            KvHeads = c.NullableInt("num_kv_heads") ?? d.KvHeads,
            MultipleOf = c.Int("multiple_of", d.MultipleOf),
            FfnDimMultiplier = c.NullableDouble("ffn_dim_multiplier"),
            NormEps = c.Double("norm_eps", d.NormEps),
            LearnSigma = c.Bool("learn_sigma", d.LearnSigma),
            QkNorm = c.Bool("qk_norm", d.QkNorm),
            CaptionDim = c.Int("cross_attention_dim", d.CaptionDim),
            ScaleFactor = c.Double("scaling_factor", d.ScaleFactor),
            Video = c.Bool("video", false),
        };
    }, config => config.Validate());

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (PatchSize < 1) throw new ArgumentException($"PatchSize must be ≥ 1; got {PatchSize}.");
        if (InChannels < 1) throw new ArgumentException($"InChannels must be ≥ 1; got {InChannels}.");
        if (Layers < 0) throw new ArgumentException($"Layers must be ≥ 0; got {Layers}.");
        if (Dim < 1) throw new ArgumentException($"Dim (hidden_size) must be ≥ 1; got {Dim}.");
        if (Heads < 1 || Dim % Heads != 0) throw new ArgumentException($"Dim ({Dim}) must be a multiple of Heads ({Heads}).");
        if (HeadDim % 4 != 0) throw new ArgumentException($"Next-DiT's 2-D RoPE needs a head width divisible by 4; Dim/Heads = {HeadDim}.");
        if (Video && HeadDim % 6 != 0) throw new ArgumentException($"A video Next-DiT's 3-D RoPE needs a head width divisible by 6 (and 4); Dim/Heads = {HeadDim}.");
        var kv = KvHeads ?? Heads;
        if (kv < 1 || Heads % kv != 0) throw new ArgumentException($"KvHeads ({kv}) must divide Heads ({Heads}).");
        if (CaptionDim < 1) throw new ArgumentException($"CaptionDim must be ≥ 1; got {CaptionDim}.");
        if (!(ScaleFactor > 0)) throw new ArgumentException($"ScaleFactor must be positive; got {ScaleFactor}.");
    }
}
