using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="Lumina2Transformer"/> (Lumina-Image 2.0's "Unified Next-DiT"), named like
/// upstream <c>NextDiT(...)</c> arguments. The defaults are the released model, upstream
/// <c>NextDiT_2B_GQA_patch2_Adaln_Refiner(in_channels=16, qk_norm=True, cap_feat_dim=2304)</c>; see
/// <see cref="Checkpoints.DiTPresets.Lumina2"/> and <see cref="Checkpoints.DiTPresets.Lumina2Diffusers"/>.
/// </summary>
public sealed record Lumina2Config : DiTConfig
{
    /// <summary>The released model's architecture (upstream's module).</summary>
    public Lumina2Config() : base(inChannels: 16, dim: 2304, layers: 26, heads: 24, kvHeads: 8, captionDim: 2304)
    {
    }

    /// <summary>Blocks in each refiner: the context refiner over the caption and the noise refiner over the image (2).</summary>
    public int RefinerLayers { get; init; } = 2;

    /// <summary>
    /// Epsilon of the q/k RMSNorms: upstream hard-codes 1e-6, diffusers' <c>Lumina2Transformer2DModel</c> uses 1e-5.
    /// (<see cref="DiTConfig.NormEps"/> is the epsilon of the sandwich RMSNorms and the caption embedder's RMSNorm.)
    /// </summary>
    public double QkNormEps { get; init; } = 1e-6;

    /// <summary>Channels each RoPE axis rotates (caption index, row, column): (32, 32, 32); they sum to the head width.</summary>
    public IReadOnlyList<int> AxesDims { get; init; } = [32, 32, 32];

    /// <summary>Positions per RoPE axis: (300, 512, 512).</summary>
    public IReadOnlyList<int> AxesLens { get; init; } = [300, 512, 512];

    /// <summary>
    /// Whether the model has upstream's top-level <c>norm_final</c> RMSNorm. Upstream creates it and keeps it in its
    /// checkpoints but never uses it; diffusers drops it. It does not change the output.
    /// </summary>
    public bool NormFinal { get; init; } = true;

    /// <summary>
    /// SwiGLU hidden width: 4·dim (times <see cref="DiTConfig.FfnDimMultiplier"/>) rounded up to <see cref="DiTConfig.MultipleOf"/>; unlike
    /// Lumina-Next there is no 2/3 factor (9216 for the released model).
    /// </summary>
    public long FfnHiddenDim => Nn.SwiGluFeedForward.RoundUp(4L * Dim, MultipleOf, FfnDimMultiplier);

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
    public string ToJson(int sampleSize = 128)
    {
        var root = WriteTrunk(DiffusersClassName, sampleSize, ("num_refiner_layers", RefinerLayers));
        root["scaling_factor"] = 1.0;
        root["axes_dim_rope"] = new JsonArray(AxesDims.Select(v => (JsonNode)v).ToArray());
        root["axes_lens"] = new JsonArray(AxesLens.Select(v => (JsonNode)v).ToArray());
        root["cap_feat_dim"] = CaptionDim;
        return ConfigJson.Write(root);
    }

    private static Lumina2Config From(Func<ConfigJson> open, string source) =>
        Read(open, source, Checkpoints.DiTPresets.Lumina2Diffusers, DiffusersClassName, "Lumina-Image 2.0", "cap_feat_dim", (c, d) => d with
        {
            RefinerLayers = c.Int("num_refiner_layers", d.RefinerLayers),
            AxesDims = c.IntArray("axes_dim_rope") ?? d.AxesDims,
            AxesLens = c.IntArray("axes_lens") ?? d.AxesLens,
        });

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (RefinerLayers < 0) throw new ArgumentException($"RefinerLayers must be ≥ 0; got {RefinerLayers}.");
        if (AxesDims is null || AxesLens is null || AxesDims.Count != 3 || AxesLens.Count != 3)
            throw new ArgumentException("AxesDims and AxesLens need three entries each (caption index, row, column).");
        if (AxesDims.Any(d => d <= 0 || d % 2 != 0)) throw new ArgumentException($"AxesDims must be positive and even; got ({string.Join(", ", AxesDims)}).");
        if (AxesLens.Any(l => l <= 0)) throw new ArgumentException($"AxesLens must be positive; got ({string.Join(", ", AxesLens)}).");
        if (AxesDims.Sum() != HeadDim)
            throw new ArgumentException($"AxesDims ({string.Join(", ", AxesDims)}) must sum to the head width Dim/Heads = {HeadDim}.");
        if (!(QkNormEps > 0)) throw new ArgumentException($"QkNormEps must be positive; got {QkNormEps}.");
    }
}
