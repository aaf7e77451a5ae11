using System.Text.Json.Nodes;
using Lumina.IO;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Configuration of a LLaMA text model, with the names and defaults of Hugging Face's <c>LlamaConfig</c> (vocab
/// 32000, hidden 4096, MLP 11008, 32 layers, 32 heads, 2048 positions; bos/eos 1/2, no pad).
/// Lumina-T2I reads LLaMA-2-7B (<see cref="Llama2_7B"/>).
/// </summary>
public sealed record LlamaConfig : DecoderTextConfig
{
    /// <summary>Hugging Face's defaults.</summary>
    public LlamaConfig()
        : base(32000, 4096, 11008, 32, 32, numKeyValueHeads: null, headDim: null, maxPositionEmbeddings: 2048, tokens: (null, 1, 2))
    {
    }

    /// <summary><c>hidden_act</c>.</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>Linear <c>rope_scaling</c> factor (1 = none). Other scaling types are rejected when the config is read.</summary>
    public double RopeLinearScalingFactor { get; init; } = 1.0;

    /// <summary><c>mlp_bias</c>.</summary>
    public bool MlpBias { get; init; }

    /// <inheritdoc />
    public override string ModelType => "llama";

    /// <summary>
    /// meta-llama/Llama-2-7b-hf: 32 layers, hidden 4096, 32 heads, MLP 11008, eps 1e-5 (6,607,343,616 parameters without
    /// the LM head).
    /// </summary>
    public static LlamaConfig Llama2_7B { get; } = new() { RmsNormEps = 1e-5, MaxPositionEmbeddings = 4096 };

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    public static LlamaConfig FromJson(string json) => From(ConfigJson.Parse(json, "LLaMA config"));

    /// <summary>Reads a Hugging Face <c>config.json</c> (the file, or the folder holding it).</summary>
    /// <param name="path">File or folder path.</param>
    public static new LlamaConfig FromFile(string path) => From(ConfigJson.Load(path));

    internal static LlamaConfig From(ConfigJson c)
    {
        var d = new LlamaConfig();
        double factor = 1.0;
        if (c.Object("rope_scaling") is { } scaling)
        {
            string? type = (scaling["rope_type"] ?? scaling["type"])?.GetValue<string>();
            if (type is "linear")
            {
                factor = scaling["factor"]?.GetValue<double>() ?? throw new InvalidDataException("rope_scaling of type linear needs a factor.");
            }
            else if (type is not ("default" or null))
            {
                throw new NotSupportedException($"rope_scaling type '{type}' is not supported; only linear scaling is.");
            }
        }

        return ReadShared(c, d) with
        {
            HiddenAct = c.String("hidden_act", d.HiddenAct) ?? d.HiddenAct,
            RopeLinearScalingFactor = factor,
            MlpBias = c.Bool("mlp_bias", false),
        };
    }

    private protected override (string Architecture, string ActivationField, string Activation) Family => ("LlamaModel", "hidden_act", HiddenAct);

    private protected override void WriteOwn(JsonObject root)
    {
        root["mlp_bias"] = MlpBias;
        if (RopeLinearScalingFactor != 1.0)
        {
            root["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = RopeLinearScalingFactor };
        }
    }

    internal override DecoderSpec ToSpec() => base.ToSpec() with { RopeLinearFactor = RopeLinearScalingFactor, MlpBias = MlpBias };
}
