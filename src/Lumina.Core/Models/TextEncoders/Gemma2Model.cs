using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// The Gemma 2 text model, as Hugging Face's <c>Gemma2Model</c>: Gemma plus sandwich norms, attention logit soft-capping and sliding-window attention on alternate layers (the text-encoder family of Lumina-Image-2.0).
/// </summary>
/// <remarks>
/// Parameters are named like the Hugging Face checkpoint keys without the <c>model.</c> prefix, so the text_encoder
/// folder of a diffusers repository loads strictly with <c>LoadSafetensors</c>; for a <c>*ForCausalLM</c> checkpoint pass
/// <see cref="TextEncoderCheckpoints.CausalLmKeyMap"/>. Create it on <c>new Device("meta")</c> to size it without memory.
/// </remarks>
internal sealed class Gemma2Model : DecoderTextModel
{
    /// <summary>Builds the model with default-initialised weights; load a checkpoint next.</summary>
    /// <param name="config">The configuration (see the presets on <see cref="Gemma2Config"/>).</param>
    /// <param name="device">Where to create the parameters; null = CPU.</param>
    /// <param name="dtype">Parameter dtype; null = fp32.</param>
    public Gemma2Model(Gemma2Config config, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Gemma2Model), (config ?? throw new ArgumentNullException(nameof(config))).ToSpec(), device, dtype)
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
    public static Gemma2Model FromPretrained(string folder, Device? device = null, ScalarType? dtype = null) =>
        PretrainedWeights.Create(folder, f =>
        {
            var config = Gemma2Config.FromFile(f);
            TextEncoderHeaderCheck.Decoder(f, config.NumHiddenLayers, config.HiddenSize, config.VocabSize);
            return new Gemma2Model(config, device, dtype);
        }, (m, f) => PretrainedWeights.LoadDecoder(m, f));

    /// <summary>The configuration the model was built from.</summary>
    public Gemma2Config Config { get; }
}
