using System.Text.Json;
using Lumina.Media;
using Lumina.Models.DiT;
using Lumina.Sampling;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
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
        request.Validate();
        var (settings, seed) = Prepare(request.AsImageRequest());
        if (settings.Width!.Value % (SizeMultiple * request.Cols) != 0)
            throw new ArgumentOutOfRangeException(nameof(request.Width), settings.Width,
                $"Width must split into {request.Cols} regions of whole patches: a multiple of {SizeMultiple * request.Cols} for this model.");
        if (settings.Height!.Value % (SizeMultiple * request.Rows) != 0)
            throw new ArgumentOutOfRangeException(nameof(request.Height), settings.Height,
                $"Height must split into {request.Rows} regions of whole patches: a multiple of {SizeMultiple * request.Rows} for this model.");
        if (!Transformer.Supports(DiTConditioningKind.Regions))
            throw new NotSupportedException($"Compositional generation needs a Lumina-Next (Next-DiT) transformer; this pipeline's is {Transformer.GetType().Name}.");
        return await gate.RunAsync(() => RunCompositional(request, settings, seed, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private TextToImageResult RunCompositional(CompositionalRequest request, TextToImageSettings settings,
        long firstSeed, IProgress<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        var images = new List<Image<Rgb24>>();
        var metadata = new List<GenerationMetadata>();
        var evaluations = new List<ModelEvaluations>();
        var total = request.ImageCount;
        var (width, height) = (settings.Width!.Value, settings.Height!.Value);
        var scale = settings.ScaleFactorFor(width, height);
        var call = PipelineSampling.Forward(settings, scale);
        var (h, w) = (height / LatentSpace.DownscaleFactor, width / LatentSpace.DownscaleFactor);
        var (vaeDType, vaeDevice) = (LatentSpace.DType, LatentSpace.Device);
        var globalPrompt = request.EffectiveGlobalPrompt;
        var regionsJson = JsonSerializer.Serialize(request.Regions);
        try
        {
            progress?.Report(new GenerationProgress(0, total, GenerationStage.EncodingPrompt, 0, settings.NumInferenceSteps));
            cancellationToken.ThrowIfCancellationRequested();
            using var conditioning = NewDisposeScope();
            var captions = EncodeRegions(request, settings.NegativePrompt, globalPrompt, cancellationToken);
            for (var index = 0; index < total; index++)
            {
                var seed = firstSeed + index;
                var item = index;
                var counter = new ModelEvaluationCounter();
                var stepProgress = progress is null ? null : new SynchronousProgress<SamplingProgress>(p =>
                    progress.Report(new GenerationProgress(item, total, GenerationStage.Sampling, p.Step, p.TotalSteps) { Evaluations = counter.Current }));
                using var scope = NewDisposeScope();
                using var generator = new TorchSharp.torch.Generator((ulong)seed);
                var noise = randn([1, Transformer.LatentChannels, h, w], dtype: ScalarType.Float32, generator: generator);
                using var solution = FlowSampling.Run(Transformer, noise, DiTConditioning.FromRegions(captions),
                    PipelineSampling.Options(settings, 1.0, stepProgress, counter), call, cancellationToken);
                var latents = solution.Final;
                evaluations.Add(counter.Current);
                progress?.Report(new GenerationProgress(item, total, GenerationStage.Decoding, settings.NumInferenceSteps, settings.NumInferenceSteps));
                cancellationToken.ThrowIfCancellationRequested();
                Tensor decoded;
                using (no_grad()) decoded = LatentSpace.DecodeLatents(latents.to(vaeDType, vaeDevice), cancellationToken);
                var image = ImageTensorConverter.ToImage(decoded);
                var meta = new GenerationMetadata(globalPrompt, settings.NegativePrompt, seed, settings.NumInferenceSteps, settings.Solver,
                    settings.TimeShift, settings.GuidanceScale, ModelId, width, height, scale, Loras: LoraSummary());
                meta.WriteTo(image);
                var png = image.Metadata.GetPngMetadata();
                png.TextData.Add(new PngTextData("regions", regionsJson, string.Empty, string.Empty));
                png.TextData.Add(new PngTextData("grid", $"{request.Rows}x{request.Cols}", string.Empty, string.Empty));
                images.Add(image);
                metadata.Add(meta);
            }
        }
        catch
        {
            foreach (var image in images) image.Dispose();
            throw;
        }
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
