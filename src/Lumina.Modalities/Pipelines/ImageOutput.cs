using Lumina.Media;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Sampling;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// The steps image, compositional and video generation share: resolving a request against the pipeline's settings
/// (validated, sizes checked against the model), per-output step progress, and the one decode-and-metadata step that
/// turns sampled latents into a PNG-ready image carrying its <see cref="GenerationMetadata"/>.
/// </summary>
internal static class ImageOutput
{
    /// <summary>
    /// The checks an image or video pipeline makes on its components before taking them (arguments present, settings
    /// valid, caption width and latent channels paired), and eval mode for the models. Returns the settings to keep.
    /// </summary>
    public static PipelineComponents CheckComponents(IDiffusionTransformer transformer, ICaptionEncoder captionEncoder, IImageLatentSpace latentSpace,
        SamplingSettings? settings, string modelId)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(captionEncoder);
        ArgumentNullException.ThrowIfNull(latentSpace);
        ArgumentNullException.ThrowIfNull(modelId);
        settings ??= TextToImagePresets.LuminaNext;
        settings.Validate();
        if (captionEncoder.FeatureSize != transformer.CaptionDim)
            throw new ArgumentException(
                $"The text encoder gives {captionEncoder.FeatureSize}-wide features but the transformer expects {transformer.CaptionDim}; pair matching components.",
                nameof(captionEncoder));
        if (latentSpace.LatentChannels != transformer.LatentChannels)
            throw new ArgumentException(
                $"The {(latentSpace is PixelSpace ? "pixel space" : "VAE")} has {latentSpace.LatentChannels} latent channels but the transformer denoises {transformer.LatentChannels}; pair matching components.",
                nameof(latentSpace));
        transformer.Module.eval();
        (latentSpace as nn.Module)?.eval();
        return new PipelineComponents(transformer, captionEncoder, latentSpace, settings, modelId);
    }

    /// <summary>
    /// Validates <paramref name="request"/>, resolves it over <paramref name="defaults"/>, and checks the size against
    /// the model's <paramref name="sizeMultiple"/> (times the region grid's <paramref name="cols"/>/<paramref name="rows"/>).
    /// </summary>
    public static SamplingSettings Resolve(GenerationRequest request, SamplingSettings defaults, int sizeMultiple, int cols = 1, int rows = 1)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var resolved = request.Resolve(defaults);
        resolved.Validate();
        Side(resolved.Width!.Value, sizeMultiple, cols, nameof(request.Width), "columns");
        Side(resolved.Height!.Value, sizeMultiple, rows, nameof(request.Height), "rows");
        return resolved;
    }

    private static void Side(int value, int multiple, int regions, string field, string what)
    {
        if (value % (multiple * regions) == 0) return;
        throw new ArgumentOutOfRangeException(field, value, regions == 1
            ? $"{field} must be a multiple of {multiple} for this model."
            : $"{field} must split into {regions} regions of whole patches: a multiple of {multiple * regions} for this model ({multiple} · {what}).");
    }

    /// <summary>Step reports of output <paramref name="item"/> of <paramref name="total"/> as generation progress (null when nobody listens).</summary>
    public static IProgress<SamplingProgress>? StepProgress(IProgress<GenerationProgress>? progress, int item, int total, ModelEvaluationCounter counter) =>
        progress is null ? null : new SynchronousProgress<SamplingProgress>(p =>
            progress.Report(new GenerationProgress(item, total, GenerationStage.Sampling, p.Step, p.TotalSteps) { Evaluations = counter.Current }));

    /// <summary>
    /// Decodes latents [1, C, h, w] through <paramref name="latentSpace"/> (on its device and dtype, without gradients)
    /// into an image carrying <paramref name="metadata"/> and the extra PNG text <paramref name="chunks"/>.
    /// </summary>
    public static Image<Rgb24> Decode(IImageLatentSpace latentSpace, Tensor latents, GenerationMetadata metadata, CancellationToken cancellationToken,
        params (string Key, string Value)[] chunks)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        Tensor decoded;
        using (no_grad()) decoded = latentSpace.DecodeLatents(latents.to(latentSpace.DType, latentSpace.Device), cancellationToken);
        var image = ImageTensorConverter.ToImage(decoded);
        metadata.WriteTo(image);
        var png = image.Metadata.GetPngMetadata();
        foreach (var (key, value) in chunks) png.TextData.Add(new PngTextData(key, value, string.Empty, string.Empty));
        return image;
    }

    /// <summary>Runs <paramref name="produce"/> for every output, disposing the images made so far if one fails.</summary>
    public static List<Image<Rgb24>> All(int count, Func<int, Image<Rgb24>> produce)
    {
        var images = new List<Image<Rgb24>>(count);
        try
        {
            for (var i = 0; i < count; i++) images.Add(produce(i));
            return images;
        }
        catch
        {
            foreach (var image in images) image.Dispose();
            throw;
        }
    }
}
