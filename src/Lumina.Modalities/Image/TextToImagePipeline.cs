using Lumina.Models.TextEncoders;
using Lumina.Media;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Sampling;
using Lumina.Schedulers;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// Text-to-image: prompt → <see cref="ICaptionEncoder"/> → caption features → the ODE solver drives the guided DiT
/// velocity over the shifted time grid → latents → decode (<see cref="IImageLatentSpace"/>: the VAE, or identity for a
/// pixel-space model) → <see cref="Image{Rgb24}"/> with PNG metadata.
/// <para><b>Threads:</b> an instance may be shared; calls to <see cref="GenerateAsync"/> are <b>serialized</b> (one
/// generation runs at a time, the others wait in order). Outputs do not depend on how calls interleave: each image's
/// noise comes from its own generator seeded with its seed.</para>
/// <para><b>Memory:</b> the pipeline owns its models; <see cref="Dispose"/> frees their native memory (it waits for a
/// running generation to finish).</para>
/// </summary>
public sealed partial class TextToImagePipeline : IDisposable
{
    private readonly GenerationGate gate;
    private readonly PipelineComponents parts;

    /// <summary>Assembles a pipeline from loaded components; it takes ownership of them.</summary>
    /// <param name="transformer">The DiT.</param>
    /// <param name="captionEncoder">Tokenizer + text encoder.</param>
    /// <param name="latentSpace">Where the transformer denoises: an <see cref="AutoencoderKL"/> or <see cref="PixelSpace"/>.</param>
    /// <param name="settings">Defaults for requests; null = <see cref="TextToImagePresets.LuminaNext"/>.</param>
    /// <param name="modelId">Where the weights came from (recorded in the PNG metadata).</param>
    public TextToImagePipeline(IDiffusionTransformer transformer, ICaptionEncoder captionEncoder, IImageLatentSpace latentSpace,
        SamplingSettings? settings = null, string modelId = "local")
    {
        gate = new GenerationGate(this);
        parts = ImageOutput.CheckComponents(transformer, captionEncoder, latentSpace, settings, modelId);
    }

    /// <summary>The DiT.</summary>
    public IDiffusionTransformer Transformer => parts.Transformer;

    /// <summary>The caption encoder (tokenizer + text encoder).</summary>
    public ICaptionEncoder CaptionEncoder => parts.CaptionEncoder;

    /// <summary>Where the transformer denoises and how latents become pixels (the VAE, or <see cref="PixelSpace"/>).</summary>
    public IImageLatentSpace LatentSpace => parts.LatentSpace;

    /// <summary>Default settings for requests.</summary>
    public SamplingSettings Settings => parts.Settings;

    /// <summary>Repo id or folder of the weights.</summary>
    public string ModelId => parts.ModelId;

    /// <summary>
    /// The caption language of a small closed-vocabulary model (the demo model's <c>caption_language.json</c>); null for
    /// other models. When set, prompts are normalised with it and <see cref="TextToImageResult.Warnings"/> is filled.
    /// </summary>
    public CaptionLanguage? CaptionLanguage { get; init; }

    /// <summary>The model family the pipeline was loaded as (null when assembled from components by hand).</summary>
    public Families.ImageModelFamily? Family { get; init; }

    /// <summary>Pixels per latent cell times the patch size: width and height must be multiples of this.</summary>
    public int SizeMultiple => parts.SizeMultiple;

    /// <summary>
    /// Generates the images of <paramref name="request"/> (an <see cref="ImageToImageRequest"/> edits its image). The
    /// request is validated first; nothing runs if it is bad.
    /// </summary>
    /// <param name="request">Prompts and settings.</param>
    /// <param name="progress">Receives stage and step reports.</param>
    /// <param name="cancellationToken">Checked before every model call.</param>
    /// <exception cref="ArgumentException">A request field is invalid (<c>ParamName</c> names it).</exception>
    public async Task<TextToImageResult> GenerateAsync(TextToImageRequest request, IProgress<GenerationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var (resolved, seed) = Prepare(request);
        var warnings = new List<string>();
        if (CaptionLanguage is { } language)
        {
            // The model saw one caption language: normalise to it (the metadata records the prompt the model saw).
            request = request with { Prompts = [.. request.Prompts.Select(language.Normalize)] };
            foreach (var prompt in request.Prompts)
                warnings.AddRange(language.Check(prompt, resolved.Width!.Value, resolved.Height!.Value));
        }

        var result = await gate.RunAsync(() => Run(request, resolved, seed, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        result.Warnings = [.. warnings.Distinct(StringComparer.Ordinal)];
        return result;
    }

    /// <summary>
    /// The sampling loop alone (diffusers' <c>latents</c> + <c>prompt_embeds</c> path): integrates the guided velocity
    /// from <paramref name="noise"/> at t = 0 to t = 1 on the request's shifted grid.
    /// </summary>
    /// <param name="noise">Initial latents [1, C, h, w] (t = 0).</param>
    /// <param name="captions">Caption features for [prompt; negative prompt] (batch 2).</param>
    /// <param name="settings">Solver, steps, shift, guidance and RoPE scaling; null = <see cref="Settings"/>.</param>
    /// <param name="progress">Receives a report per solver step.</param>
    /// <param name="cancellationToken">Checked before every model call.</param>
    /// <param name="stepEnd">diffusers' <c>callback_on_step_end</c>: sees the latents after each step and may return
    /// replacements or stop the run (see <see cref="SamplingStepCallback"/>); null = none.</param>
    /// <returns>The sampled latents [1, C, h, w].</returns>
    public Tensor SampleLatents(Tensor noise, CaptionEmbeddings captions, SamplingSettings? settings = null,
        IProgress<SamplingProgress>? progress = null, CancellationToken cancellationToken = default, SamplingStepCallback? stepEnd = null)
    {
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(captions);
        settings ??= Settings;
        settings.Validate();
        if (noise.dim() != 4 || noise.shape[0] != 1 || noise.shape[1] != Transformer.LatentChannels
            || noise.shape[2] % Transformer.PatchSize != 0 || noise.shape[3] % Transformer.PatchSize != 0)
            throw new ArgumentException(
                $"Noise must be [1, {Transformer.LatentChannels}, h, w] with h and w multiples of {Transformer.PatchSize}; got [{string.Join(", ", noise.shape)}].",
                nameof(noise));
        if (captions.BatchSize != 2)
            throw new ArgumentException($"Captions must hold [prompt; negative prompt] (batch 2); got batch {captions.BatchSize}.", nameof(captions));
        gate.ThrowIfDisposed();
        var scale = settings.ScaleFactorFor((int)noise.shape[3] * LatentSpace.DownscaleFactor, (int)noise.shape[2] * LatentSpace.DownscaleFactor);
        using var solution = FlowSampling.Run(Transformer, noise, DiTConditioning.FromCaptions(captions),
            PipelineSampling.Options(settings, PipelineSampling.Tokens(noise, Transformer.PatchSize), 1.0, progress, null, stepEnd), PipelineSampling.Forward(settings, scale), cancellationToken);
        return solution.Final.clone();
    }

    private (SamplingSettings Resolved, long Seed) Prepare(TextToImageRequest request)
    {
        var resolved = ImageOutput.Resolve(request, Settings, SizeMultiple);
        if (request is ImageToImageRequest img2img)
        {
            var points = resolved.NumInferenceSteps + 1;
            if ((int)(points * (1 - img2img.Strength)) > points - 2)
                throw new ArgumentOutOfRangeException(nameof(img2img.Strength), img2img.Strength,
                    $"With {resolved.NumInferenceSteps} steps, strength {img2img.Strength} leaves no step to take; raise the strength or the step count.");
        }
        gate.ThrowIfDisposed();
        return (resolved, request.SeedOrRandom());
    }

    private TextToImageResult Run(TextToImageRequest request, SamplingSettings settings, long firstSeed,
        IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var metadata = new List<GenerationMetadata>();
        var evaluations = new List<ModelEvaluations>();
        var total = request.ImageCount;
        var (width, height) = (settings.Width!.Value, settings.Height!.Value);
        var scale = settings.ScaleFactorFor(width, height);
        var (h, w) = (height / LatentSpace.DownscaleFactor, width / LatentSpace.DownscaleFactor);
        var edit = request as ImageToImageRequest;
        var strength = edit?.Strength ?? 1.0;
        CaptionEmbeddings? captions = null;
        try
        {
            var images = ImageOutput.All(total, index =>
            {
                var prompt = request.Prompts[index / request.ImagesPerPrompt];
                if (index % request.ImagesPerPrompt == 0)
                {
                    progress?.Report(new GenerationProgress(index, total, GenerationStage.EncodingPrompt, 0, settings.NumInferenceSteps));
                    cancellationToken.ThrowIfCancellationRequested();
                    captions?.Dispose();
                    // The system prompt (Lumina-Image 2.0's; "none" for the other families) is prepended to the prompt, and
                    // to the negative prompt when that is not empty, with upstream's exact strings.
                    captions = CaptionEncoder.Encode(Lumina2SystemPrompt.ForGuidance(settings.SystemPromptText, prompt, settings.NegativePrompt), cancellationToken);
                }
                var seed = firstSeed + index;
                var counter = new ModelEvaluationCounter();
                using var scope = NewDisposeScope();
                // The sampler state stays fp32 (upstream samples in fp32); the VAE gets its own dtype and device.
                using var generator = new Generator((ulong)seed);
                var noise = PipelineSampling.InitialNoise(generator, 1, Transformer.LatentChannels, h, w);
                var tokens = PipelineSampling.Tokens(noise, Transformer.PatchSize);
                if (edit is not null)
                {
                    // upstream img2img: z = noise·(1 − t0) + x1·t0, with x1 sampled from the VAE posterior after the noise.
                    var t0 = PipelineSampling.Grid(settings, tokens, strength)[0];
                    Tensor x1;
                    using (no_grad())
                        x1 = LatentSpace.EncodeToLatents(ImageTensorConverter.FromImage(edit.Image, LatentSpace.DType, LatentSpace.Device), generator, cancellationToken);
                    noise = noise.mul(1 - t0).add(x1.to(noise.dtype, noise.device).mul(t0));
                }
                using var solution = FlowSampling.Run(Transformer, noise, DiTConditioning.FromCaptions(captions!),
                    PipelineSampling.Options(settings, tokens, strength, ImageOutput.StepProgress(progress, index, total, counter), counter),
                    PipelineSampling.Forward(settings, scale), cancellationToken);
                evaluations.Add(counter.Current);
                progress?.Report(new GenerationProgress(index, total, GenerationStage.Decoding, settings.NumInferenceSteps, settings.NumInferenceSteps));
                var meta = GenerationMetadata.For(settings, tokens, prompt, seed, ModelId, scale, edit?.Strength, LoraSummary());
                metadata.Add(meta);
                return ImageOutput.Decode(LatentSpace, solution.Final, meta, cancellationToken);
            });
            return new TextToImageResult(images, metadata, evaluations);
        }
        finally
        {
            captions?.Dispose();
        }
    }

    /// <summary>Frees the models' native memory. Waits for a running generation; later calls throw.</summary>
    public void Dispose() => gate.Dispose(new LoraRelease(this), Transformer, CaptionEncoder, LatentSpace);
}
