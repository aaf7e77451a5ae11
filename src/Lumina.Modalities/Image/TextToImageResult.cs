using Lumina.Sampling;
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

    /// <summary>
    /// Notes on the request for this model (empty for most models): words a closed-vocabulary model such as the demo
    /// model does not know, or a size it was not trained at. See <see cref="CaptionLanguage"/>.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; internal set; } = [];

    /// <summary>How each image was made (seed included), in the order of <see cref="Images"/>.</summary>
    public IReadOnlyList<GenerationMetadata> Metadata { get; }

    /// <summary>
    /// Per image, in the order of <see cref="Images"/>: the transformer calls its sampling made and how many of them
    /// step caching skipped (<see cref="GenerationRequest.StepCache"/>).
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

    /// <summary>
    /// Writes image <paramref name="index"/> as PNG (metadata chunks included) to <paramref name="destination"/>. The PNG
    /// is encoded in memory first, so a failing stream (for example a full disk) surfaces as its own
    /// <see cref="IOException"/> and leaves the result usable.
    /// </summary>
    public async Task WritePngAsync(int index, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var png = ToPng(index);
        await destination.WriteAsync(png, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Saves image <paramref name="index"/> as a PNG file, all-or-nothing (<see cref="Lumina.Media.AtomicFile"/>): if
    /// writing fails, no partial file is left and an existing file at <paramref name="path"/> is unchanged.
    /// </summary>
    public Task SavePngAsync(int index, string path, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Images.Count);
        return Lumina.Media.AtomicFile.WriteAsync(path, (stream, ct) => WritePngAsync(index, stream, ct), cancellationToken);
    }

    /// <summary>
    /// Saves image <paramref name="index"/> in the format <paramref name="path"/>'s extension names
    /// (<see cref="Lumina.Media.ImageFileFormats"/>: <c>.png</c>, <c>.jpg</c>, <c>.webp</c>, …; no extension = PNG), all-or-nothing
    /// like <see cref="SavePngAsync"/>. Only PNG records the <see cref="GenerationMetadata"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The extension names no supported format.</exception>
    /// <exception cref="IOException">The path is not a regular file or its folder is missing (<see cref="Lumina.Media.AtomicFile"/>).</exception>
    public Task SaveAsync(int index, string path, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Images.Count);
        var encoder = Lumina.Media.ImageFileFormats.EncoderFor(path);
        return Lumina.Media.AtomicFile.WriteAsync(path, (stream, ct) => WriteAsync(index, stream, encoder, ct), cancellationToken);
    }

    /// <summary>Writes image <paramref name="index"/> to <paramref name="destination"/> with <paramref name="encoder"/>, encoded in memory first.</summary>
    public async Task WriteAsync(int index, Stream destination, SixLabors.ImageSharp.Formats.IImageEncoder encoder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Images.Count);
        using var buffer = new MemoryStream();
        await Images[index].SaveAsync(buffer, encoder, cancellationToken).ConfigureAwait(false);
        buffer.Position = 0;
        await buffer.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var image in Images) image.Dispose();
    }
}
