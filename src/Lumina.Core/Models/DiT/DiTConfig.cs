using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.DiT;

/// <summary>
/// An architecture of a Lumina diffusion transformer (<see cref="NextDiTConfig"/>, <see cref="FlagDiTConfig"/>,
/// <see cref="MusicDiTConfig"/>, <see cref="Lumina2Config"/>): the trunk every one of them has (patching, width, depth,
/// grouped-query heads, the SwiGLU width rule, RMSNorm eps, RoPE base, caption width), its checks and its diffusers
/// <c>config.json</c> fields. What a model family builds its transformer from when a checkpoint does not say.
/// </summary>
public abstract record DiTConfig
{
    private protected DiTConfig(int inChannels, int dim, int layers, int heads, int? kvHeads, int captionDim)
    {
        (InChannels, Dim, Layers, Heads, KvHeads, CaptionDim) = (inChannels, dim, layers, heads, kvHeads, captionDim);
    }

    /// <summary>Patch size p (2): latent sides must be multiples of it (1 for the music DiT, which does not patch).</summary>
    public int PatchSize { get; init; } = 2;

    /// <summary>Latent channels (4 for the SDXL VAE, 16 for the FLUX VAE, 20 for the music mel VAE).</summary>
    public int InChannels { get; init; }

    /// <summary>Model width (diffusers <c>hidden_size</c>).</summary>
    public int Dim { get; init; }

    /// <summary>Number of transformer blocks (diffusers <c>num_layers</c>).</summary>
    public int Layers { get; init; }

    /// <summary>Query heads.</summary>
    public int Heads { get; init; }

    /// <summary>Key/value heads (grouped-query attention); null = same as <see cref="Heads"/>.</summary>
    public int? KvHeads { get; init; }

    /// <summary>FFN hidden width is rounded up to a multiple of this (256).</summary>
    public int MultipleOf { get; init; } = 256;

    /// <summary>Optional FFN width multiplier (none).</summary>
    public double? FfnDimMultiplier { get; init; }

    /// <summary>RMSNorm epsilon (1e-5).</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Whether queries and keys are normalised before attention (true).</summary>
    public bool QkNorm { get; init; } = true;

    /// <summary>Caption (text-encoder) feature width.</summary>
    public int CaptionDim { get; init; }

    /// <summary>RoPE base θ (10000).</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Width of one attention head.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>Key/value heads in use.</summary>
    public int KvHeadCount => KvHeads ?? Heads;

    /// <summary>Width of the adaLN conditioning (the timestep and pooled-caption embeddings): min(dim, 1024).</summary>
    public virtual int ConditionDim => Math.Min(Dim, 1024);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid or inconsistent field.</summary>
    public virtual void Validate()
    {
        if (PatchSize < 1) throw new ArgumentException($"PatchSize must be ≥ 1; got {PatchSize}.");
        if (InChannels < 1) throw new ArgumentException($"InChannels must be ≥ 1; got {InChannels}.");
        if (Layers < 0) throw new ArgumentException($"Layers must be ≥ 0; got {Layers}.");
        if (Dim < 1) throw new ArgumentException($"Dim (hidden_size) must be ≥ 1; got {Dim}.");
        if (Heads < 1 || Dim % Heads != 0) throw new ArgumentException($"Dim ({Dim}) must be a multiple of Heads ({Heads}).");
        if (KvHeadCount < 1 || Heads % KvHeadCount != 0) throw new ArgumentException($"KvHeads ({KvHeadCount}) must divide Heads ({Heads}).");
        if (MultipleOf < 1) throw new ArgumentException($"MultipleOf must be ≥ 1; got {MultipleOf}.");
        if (CaptionDim < 1) throw new ArgumentException($"CaptionDim must be ≥ 1; got {CaptionDim}.");
        if (!(NormEps > 0)) throw new ArgumentException($"NormEps must be positive; got {NormEps}.");
        if (!(RopeTheta > 0)) throw new ArgumentException($"RopeTheta must be positive; got {RopeTheta}.");
    }

    /// <summary>
    /// Reads a diffusers transformer <c>config.json</c> of class <paramref name="className"/>: the trunk's fields over
    /// <paramref name="defaults"/> (absent keys keep them), then the family's own fields, then the checks; any bad field is
    /// a <see cref="LuminaException"/> naming the source.
    /// </summary>
    private protected static T Read<T>(Func<ConfigJson> open, string source, T defaults, string className, string family,
        string captionDimField, Func<ConfigJson, T, T> readOwn) where T : DiTConfig
        => ConfigJson.Read(open, source, c =>
        {
            c.RequireClassName(className, family);
            var d = defaults;
            return readOwn(c, d with
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
                CaptionDim = c.Int(captionDimField, d.CaptionDim),
            });
        }, config => config.Validate());

    /// <summary>
    /// The trunk's fields as a diffusers transformer <c>config.json</c> (class name, sample size, patching, sizes, heads,
    /// FFN rule, eps), with <paramref name="afterLayers"/> after <c>num_layers</c>; the family appends the rest.
    /// </summary>
    private protected JsonObject WriteTrunk(string className, int sampleSize, params (string Key, JsonNode? Value)[] afterLayers)
    {
        var root = new JsonObject
        {
            ["_class_name"] = className,
            ["sample_size"] = sampleSize,
            ["patch_size"] = PatchSize,
            ["in_channels"] = InChannels,
            ["hidden_size"] = Dim,
            ["num_layers"] = Layers,
        };
        foreach (var (key, value) in afterLayers) root[key] = value;
        root["num_attention_heads"] = Heads;
        root["num_kv_heads"] = KvHeadCount;
        root["multiple_of"] = MultipleOf;
        root["ffn_dim_multiplier"] = FfnDimMultiplier;
        root["norm_eps"] = NormEps;
        return root;
    }
}
