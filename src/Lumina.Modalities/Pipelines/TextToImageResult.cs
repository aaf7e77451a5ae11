using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Pipelines;

/// <summary>The images of one request, each carrying its <see cref="GenerationMetadata"/> in its PNG text chunks.</summary>
public sealed class TextToImageResult : IDisposable
{
    internal TextToImageResult(IReadOnlyList<Image<Rgb24>> images, IReadOnlyList<GenerationMetadata> metadata,
        IReadOnlyList<ModelEvaluations>? evaluations = null)
    {
        Images = images;
        Metadata = metadata;
        Evaluations = evaluations ?? [];
    }

    /// <summary>The images, prompt by prompt (each prompt's images together), ready for <c>SaveAsPngAsync</c>.</summary>
    public IReadOnlyList<Image<Rgb24>> Images { get; }

    /// <summary>How each image was made (seed included), in the order of <see cref="Images"/>.</summary>
    public IReadOnlyList<GenerationMetadata> Metadata { get; }

    /// <summary>
    /// Per image, in the order of <see cref="Images"/>: the transformer calls its sampling made and how many of them
    /// step caching skipped (<see cref="TextToImageRequest.StepCache"/>).
    /// </summary>
    public IReadOnlyList<ModelEvaluations> Evaluations { get; }

    /// <summary>Encodes image <paramref name="index"/> as PNG bytes, metadata chunks included.</summary>
    public byte[] ToPng(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Images.Count);
        using var stream = new MemoryStream();
        Images[index].SaveAsPng(stream);
        return stream.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var image in Images) image.Dispose();
    }
}
