using Lumina.Guidance;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Models.Vocoders;
using Lumina.Pipelines;
using Lumina.Sampling;
using Lumina.Schedulers;
using Lumina.Solvers;
using static TorchSharp.torch;

namespace Lumina.Audio;

/// <summary>
/// Text-to-music / text-to-audio (Lumina-T2Music, -T2Audio): prompt → T5 features → the music DiT over 1-D mel
/// latents, sampled with Euler on <c>linspace(0, 1, steps + 1)</c> and classifier-free guidance on every channel (the
/// DiT sees t as <c>floor(t·1000)</c>, as upstream passes <c>long(t·1000)</c>) → 1-D VAE decode of
/// <c>latents / scale</c> → BigVGAN → waveform.
/// <para>Calls are serialized; each clip's noise comes from its own seeded generator. <see cref="Dispose"/> frees the
/// models.</para>
/// </summary>
public sealed class TextToAudioPipeline : IDisposable
{
    private readonly GenerationGate gate;

    /// <summary>Assembles a pipeline from loaded components; it takes ownership of them.</summary>
    /// <param name="transformer">The music DiT.</param>
    /// <param name="captionEncoder">T5 caption encoder (upstream FrozenFLANEmbedder).</param>
    /// <param name="vae">The 1-D mel autoencoder.</param>
    /// <param name="vocoder">BigVGAN.</param>
    /// <param name="sampleRate">Output sample rate (16000 for the released models).</param>
    /// <param name="latentScale">The first-stage <c>scale_factor</c>: latents are divided by it before decoding.</param>
    /// <param name="settings">Defaults for requests.</param>
    public TextToAudioPipeline(MusicDiT transformer, ICaptionEncoder captionEncoder, AutoencoderKL1D vae, BigVGAN vocoder,
        int sampleRate = 16000, double latentScale = 1.0, SamplingSettings? settings = null)
    {
        gate = new GenerationGate(this);
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(captionEncoder);
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(vocoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        if (!(double.IsFinite(latentScale) && latentScale > 0)) throw new ArgumentOutOfRangeException(nameof(latentScale), latentScale, "The latent scale must be positive.");
        settings ??= DefaultSettings;
        settings.Validate();
        if (captionEncoder.FeatureSize != transformer.Config.CaptionDim)
            throw new ArgumentException($"The text encoder gives {captionEncoder.FeatureSize}-wide features but the DiT expects {transformer.Config.CaptionDim}.", nameof(captionEncoder));
        if (vae.Config.EmbedDim != transformer.Config.InChannels)
            throw new ArgumentException($"The VAE has {vae.Config.EmbedDim} latent channels but the DiT denoises {transformer.Config.InChannels}.", nameof(vae));
        if (vae.Config.OutChannels != vocoder.Config.NumMels)
            throw new ArgumentException($"The VAE decodes {vae.Config.OutChannels} mel bins but the vocoder reads {vocoder.Config.NumMels}.", nameof(vocoder));
        Transformer = transformer;
        CaptionEncoder = captionEncoder;
        Vae = vae;
        Vocoder = vocoder;
        SampleRate = sampleRate;
        LatentScale = latentScale;
        Settings = settings;
        transformer.eval();
        vae.eval();
        vocoder.eval();
    }

    /// <summary>The music DiT.</summary>
    public MusicDiT Transformer { get; }

    /// <summary>The caption encoder.</summary>
    public ICaptionEncoder CaptionEncoder { get; }

    /// <summary>The mel autoencoder.</summary>
    public AutoencoderKL1D Vae { get; }

    /// <summary>The vocoder.</summary>
    public BigVGAN Vocoder { get; }

    /// <summary>Output sample rate.</summary>
    public int SampleRate { get; }

    /// <summary>The first-stage latent scale factor.</summary>
    public double LatentScale { get; }

    /// <summary>Defaults for requests (<see cref="DefaultSettings"/> unless the builder changed them).</summary>
    public SamplingSettings Settings { get; }

    /// <summary>
    /// Upstream Lumina-T2Music's sampler: Euler on <c>linspace(0, 1, 25)</c> (24 steps, no time shift) and
    /// classifier-free guidance 3 on every channel.
    /// </summary>
    public static SamplingSettings DefaultSettings { get; } = new()
    {
        Solver = OdeMethod.Euler, NumInferenceSteps = 24, TimeShift = 1.0, GuidanceScale = 3.0, GuidanceChannels = GuidanceChannels.All,
        ProportionalAttention = false,
    };

    /// <summary>Output samples per latent frame: VAE downscale × vocoder hop.</summary>
    public int SamplesPerLatentFrame => Vae.Config.DownscaleFactor * Vocoder.Config.HopLength;

    /// <summary>The latent frame count a duration maps to (at least 1).</summary>
    public int LatentFramesFor(double seconds) => Math.Max(1, (int)Math.Round(seconds * SampleRate / SamplesPerLatentFrame));

    /// <summary>Longest clip the DiT's rotary table allows, in seconds.</summary>
    public double MaxDurationSeconds => (double)Transformer.Config.MaxLength * SamplesPerLatentFrame / SampleRate;

    /// <summary>Generates one clip per prompt. The request is validated before any model runs.</summary>
    /// <exception cref="ArgumentException">A request field is invalid (<c>ParamName</c> names it).</exception>
    public async Task<TextToAudioResult> GenerateAsync(TextToAudioRequest request, IProgress<GenerationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var frames = LatentFramesFor(request.DurationSeconds);
        if (frames > Transformer.Config.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(request.DurationSeconds), request.DurationSeconds,
                $"DurationSeconds may be at most {MaxDurationSeconds:0.##} s for this model ({Transformer.Config.MaxLength} latent frames).");
        var settings = request.Resolve(Settings);
        settings.Validate();
        gate.ThrowIfDisposed();
        var firstSeed = request.SeedOrRandom();
        return await gate.RunAsync(() => Run(request, frames, settings, firstSeed, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private TextToAudioResult Run(TextToAudioRequest request, int frames, SamplingSettings settings, long firstSeed,
        IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var waveforms = new List<float[]>();
        var seeds = new List<long>();
        var total = request.Prompts.Count;
        var steps = settings.NumInferenceSteps;
        for (var i = 0; i < total; i++)
        {
            var seed = firstSeed + i;
            progress?.Report(new GenerationProgress(i, total, GenerationStage.EncodingPrompt, 0, steps));
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var captions = CaptionEncoder.Encode(Lumina2SystemPrompt.ForGuidance(settings.SystemPromptText, request.Prompts[i], settings.NegativePrompt), cancellationToken);
            var noise = PipelineSampling.InitialNoise(seed, 1, Transformer.Config.InChannels, frames);
            var counter = new ModelEvaluationCounter();
            // The music DiT guides every channel (DefaultSettings); its contract takes flow times and applies upstream's floor(t·1000).
            using var solution = FlowSampling.Run(Transformer, noise, DiTConditioning.FromCaptions(captions),
                PipelineSampling.Options(settings, PipelineSampling.Tokens(noise, 1), 1.0, ImageOutput.StepProgress(progress, i, total, counter), counter), PipelineSampling.Forward(settings, null),
                cancellationToken);
            progress?.Report(new GenerationProgress(i, total, GenerationStage.Decoding, steps, steps));
            cancellationToken.ThrowIfCancellationRequested();
            var vaeWeight = Vae.parameters().First();
            var vocoderWeight = Vocoder.parameters().First();
            var mel = Vae.Decode(solution.Final.div(LatentScale).to(vaeWeight.dtype, vaeWeight.device));
            var wave = Vocoder.Vocode(mel.to(vocoderWeight.dtype, vocoderWeight.device)).reshape(-1).to(ScalarType.Float32, CPU);
            waveforms.Add(wave.data<float>().ToArray());
            seeds.Add(seed);
        }
        return new TextToAudioResult(waveforms, SampleRate, seeds);
    }

    /// <summary>Frees the models' native memory (waits for a running generation).</summary>
    public void Dispose() => gate.Dispose(Transformer, CaptionEncoder, Vae, Vocoder);
}
