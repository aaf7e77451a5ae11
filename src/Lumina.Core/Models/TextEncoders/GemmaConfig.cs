using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Configuration of a Gemma (v1) text model, with the names and defaults of Hugging Face's <c>GemmaConfig</c>
/// (vocab 256000, hidden 3072, MLP 24576, 28 layers, 16 heads of 256, 8192 positions; pad/eos/bos 0/1/2).
/// Lumina-Next reads Gemma-2B (<see cref="Gemma2B"/>).
/// </summary>
/// <remarks>Gemma 2's config derives from it: the same model plus sandwich norms, soft-capping and sliding windows.</remarks>
public record GemmaConfig : DecoderTextConfig
{
    /// <summary>Hugging Face's defaults.</summary>
    public GemmaConfig() : this(hiddenSize: 3072, intermediateSize: 24576, layers: 28, heads: 16, kvHeads: 16)
    {
    }

    private protected GemmaConfig(int hiddenSize, int intermediateSize, int layers, int heads, int kvHeads)
        : base(256000, hiddenSize, intermediateSize, layers, heads, kvHeads, headDim: 256, maxPositionEmbeddings: 8192, tokens: (0, 2, 1))
    {
    }

    /// <summary><c>hidden_activation</c> (Gemma ignores <c>hidden_act</c>; absent means tanh-approximated GELU).</summary>
    public string HiddenActivation { get; init; } = "gelu_pytorch_tanh";

    /// <inheritdoc />
    public override string ModelType => "gemma";

    /// <summary>google/gemma-2b: 18 layers, hidden 2048, 8 heads, 1 KV head, head_dim 256, MLP 16384 (2,506,172,416 parameters).</summary>
    public static GemmaConfig Gemma2B { get; } = new(hiddenSize: 2048, intermediateSize: 16384, layers: 18, heads: 8, kvHeads: 1);

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    public static GemmaConfig FromJson(string json) => From(ConfigJson.Parse(json, "Gemma config"));

    /// <summary>Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    public static new GemmaConfig FromFile(string path) => From(ConfigJson.Load(path));

    internal static GemmaConfig From(ConfigJson c) => ReadGemma(c, new GemmaConfig());

    /// <summary>The shared fields and <c>hidden_activation</c> over a Gemma family's defaults.</summary>
    private protected static T ReadGemma<T>(ConfigJson c, T d) where T : GemmaConfig =>
        ReadShared(c, d) with { HiddenActivation = c.String("hidden_activation", null) ?? d.HiddenActivation };

    /// <summary>The Hugging Face model class.</summary>
    private protected virtual string ModelClass => "GemmaModel";

    private protected override (string Architecture, string ActivationField, string Activation) Family =>
        (ModelClass, "hidden_activation", HiddenActivation);

    internal override DecoderSpec ToSpec() => base.ToSpec() with { NormUnitOffset = true, ScaleEmbeddings = true };
}
