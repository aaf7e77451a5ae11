using System.Text.Json.Nodes;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Models.Vocoders;
using Lumina.Pipelines;
using Lumina.Tensors;
using static TorchSharp.torch;

namespace Lumina.Audio;

/// <summary>
/// Loads a text-to-music / text-to-audio pipeline from a folder: <c>model_index.json</c>, <c>transformer/</c>
/// (config.json + diffusion_pytorch_model.safetensors), <c>vae/</c> (config.json + diffusion_pytorch_model.safetensors),
/// <c>vocoder/</c> (BigVGAN config.json with <c>sampling_rate</c> + *.safetensors, weight norm folded on load),
/// <c>text_encoder/</c> (T5) and <c>tokenizer/</c>. Upstream publishes these models only as pickled checkpoints; convert
/// them to this layout first (Lumina.NET never unpickles).
/// </summary>
public static class TextToAudioLoader
{
    /// <summary>Loads every component.</summary>
    public static TextToAudioPipeline Load(string folder, Device? device = null, ScalarType? dtype = null, TextToAudioSettings? settings = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        if (!File.Exists(Path.Combine(folder, "model_index.json")))
            throw new LuminaException($"'{folder}' has no model_index.json; a text-to-audio folder holds transformer/, vae/, vocoder/, text_encoder/ and tokenizer/.");
        string Sub(string name) => Directory.Exists(Path.Combine(folder, name)) ? Path.Combine(folder, name)
            : throw new LuminaException($"'{folder}' has no {name}/ folder.");
        string Weights(string dir, string stem) => ModelFolder.WeightsIn(dir, stem)
            ?? Directory.EnumerateFiles(dir, "*.safetensors").Order(StringComparer.Ordinal).FirstOrDefault()
            ?? throw new LuminaException($"'{dir}' holds no .safetensors weights.");

        var disposables = new List<IDisposable>();
        try
        {
            var transformerDir = Sub("transformer");
            var dit = new MusicDiT(AudioModelConfigs.ReadTransformer(Path.Combine(transformerDir, "config.json")), device, dtype);
            disposables.Add(dit);
            dit.LoadSafetensors(Weights(transformerDir, "diffusion_pytorch_model"));

            cancellationToken.ThrowIfCancellationRequested();
            var encoder = T5CaptionEncoder.FromPretrained(Sub("text_encoder"), Sub("tokenizer"), device, dtype);
            disposables.Add(encoder);

            cancellationToken.ThrowIfCancellationRequested();
            var vaeDir = Sub("vae");
            var (vaeConfig, scale) = AudioModelConfigs.ReadVae(Path.Combine(vaeDir, "config.json"));
            var vae = new AutoencoderKL1D(vaeConfig, device, dtype);
            disposables.Add(vae);
            vae.LoadSafetensors(Weights(vaeDir, "diffusion_pytorch_model"));

            cancellationToken.ThrowIfCancellationRequested();
            var vocoderDir = Sub("vocoder");
            var vocoderJson = File.ReadAllText(Path.Combine(vocoderDir, "config.json"));
            var vocoder = new BigVGAN(BigVGANConfig.FromJson(vocoderJson, Path.Combine(vocoderDir, "config.json")), device, dtype);
            disposables.Add(vocoder);
            vocoder.LoadCheckpoint(Weights(vocoderDir, "model"));
            var rate = (JsonNode.Parse(vocoderJson) as JsonObject)?["sampling_rate"]?.GetValue<int>() ?? 16000;

            return new TextToAudioPipeline(dit, encoder, vae, vocoder, rate, scale, settings);
        }
        catch
        {
            foreach (var d in disposables) d.Dispose();
            throw;
        }
    }
}
