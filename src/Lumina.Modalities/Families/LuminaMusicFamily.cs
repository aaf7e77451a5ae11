using System.Text.Json.Nodes;
using Lumina.Audio;
using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Models.Vocoders;
using Lumina.Pipelines;
using Lumina.Tensors;

namespace Lumina.Families;

/// <summary>
/// Lumina-T2Music / -T2Audio (the music DiT + FLAN-T5 + 1-D mel VAE + BigVGAN): a folder with <c>model_index.json</c>,
/// <c>transformer/</c>, <c>vae/</c>, <c>vocoder/</c>, <c>text_encoder/</c> and <c>tokenizer/</c>. Upstream publishes only
/// pickled checkpoints; convert them to this layout first (Lumina.NET never unpickles).
/// </summary>
internal sealed class LuminaMusicFamily : ModelFamily
{
    /// <summary>The registered instance.</summary>
    public static LuminaMusicFamily Instance { get; } = new();

    private LuminaMusicFamily()
    {
    }

    /// <inheritdoc />
    public override string Name => "lumina-music";

    /// <inheritdoc />
    public override string DisplayName => "music DiT / FlagDiTv2 (Lumina-T2Music)";

    /// <inheritdoc />
    internal override ModelTask Task => ModelTask.TextToAudio;

    /// <inheritdoc />
    public override IReadOnlyList<KeyValuePair<string, DiTConfig>> Presets { get; } = [new("LuminaT2Music", DiTPresets.LuminaT2Music)];

    /// <inheritdoc />
    public override bool Recognizes(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return folder.Layout == ModelLayoutKind.Diffusers
            && (folder.Component("vocoder") is not null || folder.PipelineClass is { } c && (c.Contains("Music", StringComparison.Ordinal) || c.Contains("Audio", StringComparison.Ordinal)));
    }

    /// <inheritdoc />
    public override ModelLayoutKind? RecognizeCheckpoint(IReadOnlyCollection<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        return tensorNames.Contains("proj_in.weight") && tensorNames.Any(k => k.StartsWith("blocks.0.attention.wq", StringComparison.Ordinal))
            ? ModelLayoutKind.Original
            : null;
    }

    /// <summary>Loads every component of a music folder.</summary>
    internal static TextToAudioPipeline Load(FamilyLoadContext context, SamplingSettings? settings, CancellationToken cancellationToken)
    {
        var folder = context.Folder.Path;
        var (device, dtype) = (context.Options.Device, context.Options.DType);
        string Sub(string name) => context.Folder.Component(name) ?? throw new LuminaException($"'{folder}' has no {name}/ folder.");
        string Weights(string dir, string stem) => DiffusersFolder.WeightsIn(dir, stem)
            ?? Directory.EnumerateFiles(dir, "*.safetensors").Order(StringComparer.Ordinal).FirstOrDefault()
            ?? throw new LuminaException($"'{dir}' holds no .safetensors weights.");

        var disposables = new List<IDisposable>();
        try
        {
            var config = AudioModelConfigs.ReadTransformer(Path.Combine(Sub("transformer"), "config.json"));
            var dit = context.LoadTransformerModule(() => new MusicDiT(config, device, dtype), (model, source) => model.LoadTensors(source));
            disposables.Add(dit);

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
