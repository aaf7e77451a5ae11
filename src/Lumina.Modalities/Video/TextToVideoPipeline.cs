using System.Globalization;
using Lumina.Sampling;
using Lumina.Media;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Lumina.Video;

/// <summary>
/// Text-to-video on the DiT contract (<see cref="IDiffusionTransformer"/> with <see cref="IDiffusionTransformer.SupportsVideo"/>;
/// today the video Next-DiT, <see cref="NextDiTConfig.Video"/>): prompt → caption features → the one sampling loop
/// integrates the guided velocity of <see cref="IDiffusionTransformer.Forward"/> over latents [1, C, F, h, w] (for the
/// Next-DiT: frames joined by the learned <c>[nextframe]</c> token, 3-D RoPE) → each latent frame decoded by the image VAE
/// (or taken as pixels by <see cref="PixelSpace"/>) through the same decode-and-metadata step as images → frames.
/// No upstream video checkpoint exists: this runs a model trained in that layout (docs/models-dit.md describes it).
/// <para><b>Threads:</b> calls to <see cref="GenerateAsync"/> are serialized, as in <see cref="TextToImagePipeline"/>.
/// <b>Memory:</b> the pipeline owns its models; <see cref="Dispose"/> frees them (waiting for a running call).</para>
/// </summary>
public sealed class TextToVideoPipeline : IDisposable
{
    private readonly GenerationGate gate;
    private readonly PipelineComponents parts;

    /// <summary>Assembles a pipeline from loaded components; it takes ownership of them.</summary>
    /// <param name="transformer">A transformer that takes video latents (<see cref="IDiffusionTransformer.SupportsVideo"/>: a video
    /// Next-DiT, <see cref="NextDiTConfig.Video"/> = true), put in eval mode. Proportional attention uses its own base
    /// sequence length (the loader sets Lumina-Next's 4096).</param>
    /// <param name="captionEncoder">Tokenizer + text encoder.</param>
    /// <param name="latentSpace">The image VAE (applied frame by frame), or <see cref="PixelSpace"/> for a pixel-space model.</param>
    /// <param name="settings">Defaults for requests; null = <see cref="TextToImagePresets.LuminaNext"/>.</param>
    /// <param name="modelId">Where the weights came from (recorded in the frames' metadata).</param>
    public TextToVideoPipeline(IDiffusionTransformer transformer, ICaptionEncoder captionEncoder, IImageLatentSpace latentSpace,
        SamplingSettings? settings = null, string modelId = "local")
    {
        gate = new GenerationGate(this);
        if (transformer is { SupportsVideo: false })
            throw new ArgumentException(
                $"The transformer ({transformer.GetType().Name}) takes images only; a video pipeline needs one that takes video latents (a Next-DiT built with NextDiTConfig.Video = true).",
                nameof(transformer));
        parts = ImageOutput.CheckComponents(transformer, captionEncoder, latentSpace, settings, modelId);
    }

    /// <summary>The video DiT (on the one DiT contract).</summary>
    public IDiffusionTransformer Transformer => parts.Transformer;

    /// <summary>The caption encoder.</summary>
    public ICaptionEncoder CaptionEncoder => parts.CaptionEncoder;

    /// <summary>Where the transformer denoises: the VAE (decoding frame by frame) or <see cref="PixelSpace"/>.</summary>
    public IImageLatentSpace LatentSpace => parts.LatentSpace;

    /// <summary>Default settings for requests.</summary>
    public SamplingSettings Settings => parts.Settings;

    /// <summary>Repo id or folder of the weights.</summary>
    public string ModelId => parts.ModelId;

    /// <summary>Width and height must be multiples of this (VAE factor × patch size).</summary>
    public int SizeMultiple => parts.SizeMultiple;

    /// <summary>Generates the video of <paramref name="request"/>. The request is validated first; nothing runs if it is bad.</summary>
    /// <param name="request">Prompt, frames, size and settings.</param>
    /// <param name="progress">Receives stage and step reports (one item).</param>
    /// <param name="cancellationToken">Checked before every model call and between decoded frames.</param>
    /// <exception cref="ArgumentException">A request field is invalid (<c>ParamName</c> names it).</exception>
    public async Task<TextToVideoResult> GenerateAsync(TextToVideoRequest request, IProgress<GenerationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = ImageOutput.Resolve(request, Settings with { ScaleFactor = null, AutoScaleFactor = false }, SizeMultiple);
        gate.ThrowIfDisposed();
        var seed = request.SeedOrRandom();
        return await gate.RunAsync(() => Run(request, settings, seed, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private TextToVideoResult Run(TextToVideoRequest request, SamplingSettings settings, long seed, IProgress<GenerationProgress>? progress,
        CancellationToken cancellationToken)
    {
        var steps = settings.NumInferenceSteps;
        progress?.Report(new GenerationProgress(0, 1, GenerationStage.EncodingPrompt, 0, steps));
        cancellationToken.ThrowIfCancellationRequested();
        var (h, w) = (settings.Height!.Value / LatentSpace.DownscaleFactor, settings.Width!.Value / LatentSpace.DownscaleFactor);
        var counter = new ModelEvaluationCounter();
        var prompt = request.Prompts[0];
        using var scope = NewDisposeScope();
        using var captions = CaptionEncoder.Encode(Lumina2SystemPrompt.ForGuidance(settings.SystemPromptText, prompt, settings.NegativePrompt), cancellationToken);
        var noise = PipelineSampling.InitialNoise(seed, 1, Transformer.LatentChannels, request.Frames, h, w);
        var tokens = PipelineSampling.Tokens(noise, Transformer.PatchSize);
        using var solution = FlowSampling.Run(Transformer, noise, DiTConditioning.FromCaptions(captions),
            PipelineSampling.Options(settings, tokens, 1.0, ImageOutput.StepProgress(progress, 0, 1, counter), counter), PipelineSampling.Forward(settings, null),
            cancellationToken);
        var latents = solution.Final;

        progress?.Report(new GenerationProgress(0, 1, GenerationStage.Decoding, steps, steps));
        var metadata = GenerationMetadata.For(settings, tokens, prompt, seed, ModelId);
        var count = request.Frames.ToString(CultureInfo.InvariantCulture);
        // Each latent frame is decoded on its own by the image latent space, with frame/frames chunks beside the metadata.
        var frames = ImageOutput.All(request.Frames, f =>
            ImageOutput.Decode(LatentSpace, latents.select(2, f), metadata, cancellationToken, ("frame", f.ToString(CultureInfo.InvariantCulture)), ("frames", count)));
        return new TextToVideoResult(frames, metadata, counter.Current);
    }

    /// <summary>Frees the models' native memory. Waits for a running generation; later calls throw.</summary>
    public void Dispose() => gate.Dispose(Transformer, CaptionEncoder, LatentSpace);
}
