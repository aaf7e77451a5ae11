using Lumina.IO;

namespace Lumina.Models.DiT;

/// <summary>
/// Constructor configuration of <see cref="NextDiT"/>, named like upstream <c>NextDiT(...)</c> arguments. Defaults are
/// the released Lumina-Next-T2I / -SFT model (NextDiT-2B-GQA: 4 latent channels, dim 2304, 24 blocks, 32 query and 8
/// KV heads, Gemma-2B captions of width 2048); see <see cref="Checkpoints.DiTPresets"/>.
/// </summary>
public sealed record NextDiTConfig : DiTConfig
{
    /// <summary>The released model's architecture.</summary>
    public NextDiTConfig() : base(inChannels: 4, dim: 2304, layers: 24, heads: 32, kvHeads: 8, captionDim: 2048)
    {
    }

    /// <summary>Whether the model predicts 2·C channels (the second half is dropped by the forward).</summary>
    public bool LearnSigma { get; init; } = true;

    /// <summary>
    /// Upstream's constructor <c>scale_factor</c>: the default rotary table is built as time-aware scaling at t = 1 with
    /// watershed 1, i.e. NTK-scaled by this factor. 1 = unscaled.
    /// </summary>
    public double ScaleFactor { get; init; } = 1.0;

    /// <summary>
    /// A video model: adds the learned <c>nextframe_token</c> that separates frames in
    /// <see cref="NextDiT.ForwardVideo"/> and uses 3-D RoPE over (frame, row, col), which needs a head width divisible
    /// by 6. No upstream video checkpoint exists; see docs/models-dit.md for the layout.
    /// </summary>
    public bool Video { get; init; }

    /// <summary>Output channels of the final layer (2·C with learned sigma).</summary>
    public int OutChannels => LearnSigma ? 2 * InChannels : InChannels;

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
        var root = WriteTrunk(DiffusersClassName, sampleSize);
        root["learn_sigma"] = LearnSigma;
        root["qk_norm"] = QkNorm;
        root["cross_attention_dim"] = CaptionDim;
        root["scaling_factor"] = ScaleFactor;
        // Lumina.NET's own key: a video model (nextframe_token, 3-D RoPE). diffusers has no video Lumina class.
        if (Video) root["video"] = true;
        return ConfigJson.Write(root);
    }

    private static NextDiTConfig From(Func<ConfigJson> open, string source) =>
        Read(open, source, new NextDiTConfig(), DiffusersClassName, "Lumina-Next", "cross_attention_dim", (c, d) => d with
        {
            LearnSigma = c.Bool("learn_sigma", d.LearnSigma),
            QkNorm = c.Bool("qk_norm", d.QkNorm),
            ScaleFactor = c.Double("scaling_factor", d.ScaleFactor),
            Video = c.Bool("video", false),
        });

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (HeadDim % 4 != 0) throw new ArgumentException($"Next-DiT's 2-D RoPE needs a head width divisible by 4; Dim/Heads = {HeadDim}.");
        if (Video && HeadDim % 6 != 0) throw new ArgumentException($"A video Next-DiT's 3-D RoPE needs a head width divisible by 6 (and 4); Dim/Heads = {HeadDim}.");
        if (!(ScaleFactor > 0)) throw new ArgumentException($"ScaleFactor must be positive; got {ScaleFactor}.");
    }
}
