using System.Text.Json;
using Lumina.Models.DiT;
using Lumina.Sampling;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

public sealed partial class TextToImagePipeline
{
    /// <summary>
    /// Compositional generation: each grid region of the image follows its own prompt through the caption
    /// cross-attention, and the global prompt conditions the whole image through adaLN (see <see cref="CompositionalRequest"/>).
    /// Needs a transformer that supports <see cref="DiTConditioningKind.Regions"/> (Lumina-Next). Same threading,
    /// seeding, progress, step caching and cancellation rules as <c>GenerateAsync</c> (a separate name, so that
    /// <c>GenerateAsync(new("prompt"))</c> stays unambiguous); each PNG also carries <c>regions</c> (a JSON
    /// array of rows) and <c>grid</c> (<c>rows×cols</c>) text chunks, with the global prompt as <c>prompt</c>.
    /// </summary>
    /// <param name="request">Region prompts and settings.</param>
    /// <param name="progress">Receives stage and step reports.</param>
    /// <param name="cancellationToken">Checked before every model call.</param>
    /// <exception cref="ArgumentException">A request field is invalid (<c>ParamName</c> names it).</exception>
    /// <exception cref="NotSupportedException">The pipeline's transformer has no compositional forward (Flag-DiT).</exception>
    public async Task<TextToImageResult> GenerateCompositionalAsync(CompositionalRequest request, IProgress<GenerationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = ImageOutput.Resolve(request, Settings, SizeMultiple, request.Cols, request.Rows);
        if (!Transformer.Supports(DiTConditioningKind.Regions))
            throw new NotSupportedException($"Compositional generation needs a Lumina-Next (Next-DiT) transformer; this pipeline's is {Transformer.GetType().Name}.");
        gate.ThrowIfDisposed();
        var seed = request.SeedOrRandom();
        return await gate.RunAsync(() => RunCompositional(request, settings, seed, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private TextToImageResult RunCompositional(CompositionalRequest request, SamplingSettings settings,
        long firstSeed, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var metadata = new List<GenerationMetadata>();
        var evaluations = new List<ModelEvaluations>();
        var total = request.ImagesPerPrompt;
        var (width, height) = (settings.Width!.Value, settings.Height!.Value);
        var scale = settings.ScaleFactorFor(width, height);
        var (h, w) = (height / LatentSpace.DownscaleFactor, width / LatentSpace.DownscaleFactor);
        var globalPrompt = request.EffectiveGlobalPrompt;
        (string, string)[] chunks = [("regions", JsonSerializer.Serialize(request.Regions)), ("grid", $"{request.Rows}x{request.Cols}")];
        progress?.Report(new GenerationProgress(0, total, GenerationStage.EncodingPrompt, 0, settings.NumInferenceSteps));
        cancellationToken.ThrowIfCancellationRequested();
        using var conditioning = NewDisposeScope();
        var captions = EncodeRegions(request, settings.NegativePrompt, globalPrompt, cancellationToken);
        var images = ImageOutput.All(total, index =>
        {
            var seed = firstSeed + index;
            var counter = new ModelEvaluationCounter();
            using var scope = NewDisposeScope();
            var noise = PipelineSampling.InitialNoise(seed, 1, Transformer.LatentChannels, h, w);
            var tokens = PipelineSampling.Tokens(noise, Transformer.PatchSize);
            using var solution = FlowSampling.Run(Transformer, noise, DiTConditioning.FromRegions(captions),
                PipelineSampling.Options(settings, tokens, 1.0, ImageOutput.StepProgress(progress, index, total, counter), counter),
                PipelineSampling.Forward(settings, scale), cancellationToken);
            evaluations.Add(counter.Current);
            progress?.Report(new GenerationProgress(index, total, GenerationStage.Decoding, settings.NumInferenceSteps, settings.NumInferenceSteps));
            var meta = GenerationMetadata.For(settings, tokens, globalPrompt, seed, ModelId, scale, loras: LoraSummary());
            metadata.Add(meta);
            return ImageOutput.Decode(LatentSpace, solution.Final, meta, cancellationToken, chunks);
        });
        return new TextToImageResult(images, metadata, evaluations);
    }

    // Encodes [regions…, negative, global] in one batch (as upstream) and lays them out for [cond; uncond]: the
    // conditional half reads region r's prompt in region r, the unconditional half the negative prompt everywhere, and
    // both halves pool the global prompt for adaLN (upstream passes one global caption for the whole batch).
    private RegionalCaptions EncodeRegions(CompositionalRequest request, string negativePrompt, string globalPrompt, CancellationToken cancellationToken)
    {
        var regions = request.RegionPrompts;
        var r = regions.Count;
        using var encoded = CaptionEncoder.Encode([.. regions, negativePrompt, globalPrompt], cancellationToken);
        var (l, c) = (encoded.TokenCount, encoded.Features.shape[2]);
        var features = encoded.Features;
        var mask = encoded.Mask;
        var regionFeatures = cat([features.narrow(0, 0, r).unsqueeze(0), features.narrow(0, r, 1).expand(r, l, c).unsqueeze(0)], 0);
        var regionMask = cat([mask.narrow(0, 0, r).unsqueeze(0), mask.narrow(0, r, 1).expand(r, l).unsqueeze(0)], 0);
        var global = features.narrow(0, r + 1, 1).expand(2, l, c).contiguous();
        var globalMask = mask.narrow(0, r + 1, 1).expand(2, l).contiguous();
        return new RegionalCaptions(regionFeatures, regionMask, global, globalMask, request.Rows, request.Cols);
    }
}
