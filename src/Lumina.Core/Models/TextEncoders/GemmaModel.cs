using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// The Gemma (v1) text model, as Hugging Face's <c>GemmaModel</c>: embeddings × sqrt(hidden), RMSNorm with (1+w), tanh-GELU MLP, multi-query attention and RoPE. Lumina-Next feeds <c>HiddenState(ids, mask, -2)</c> to its DiT.
/// </summary>
/// <remarks>
/// Parameters are named like the Hugging Face checkpoint keys without the <c>model.</c> prefix, so the text_encoder
/// folder of a diffusers repository loads strictly with <c>LoadSafetensors</c>; for a <c>*ForCausalLM</c> checkpoint pass
/// <see cref="TextEncoderCheckpoints.CausalLmKeyMap"/>. Create it on <c>new Device("meta")</c> to size it without memory.
/// </remarks>
public sealed class GemmaModel : DecoderTextModel
{
    /// <summary>Builds the model with default-initialised weights; load a checkpoint next.</summary>
    /// <param name="config">The configuration (see the presets on <see cref="GemmaConfig"/>).</param>
    /// <param name="device">Where to create the parameters; null = CPU.</param>
    /// <param name="dtype">Parameter dtype; null = fp32.</param>
    public GemmaModel(GemmaConfig config, Device? device = null, ScalarType? dtype = null)
        : base(nameof(GemmaModel), (config ?? throw new ArgumentNullException(nameof(config))).ToSpec(), device, dtype)
    {
        Config = config;
    }

    /// <summary>
    /// Builds the model from a Hugging Face model folder: <c>config.json</c> plus <c>model.safetensors</c> or sharded
    /// <c>model-0000x-of-0000y.safetensors</c> with their index, loaded strictly (a <c>*ForCausalLM</c> checkpoint's
    /// <c>model.</c> prefix is stripped and its LM head skipped).
    /// </summary>
    /// <param name="folder">The folder, e.g. the <c>text_encoder</c> folder of a diffusers repository.</param>
    /// <param name="device">Where to create the parameters; null = CPU.</param>
    /// <param name="dtype">Parameter dtype; null = fp32.</param>
    /// <exception cref="Lumina.Tensors.CheckpointMismatchException">The weights do not fit the configuration.</exception>
    public static GemmaModel FromPretrained(string folder, Device? device = null, ScalarType? dtype = null) =>
        PretrainedWeights.Create(folder, f =>
        {
            var config = GemmaConfig.FromFile(f);
            TextEncoderHeaderCheck.Decoder(f, config.NumHiddenLayers, config.HiddenSize, config.VocabSize);
            return new GemmaModel(config, device, dtype);
        }, (m, f) => PretrainedWeights.LoadDecoder(m, f));

    /// <summary>The configuration the model was built from.</summary>
    public GemmaConfig Config { get; }
}
