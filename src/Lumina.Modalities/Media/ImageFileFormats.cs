using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;

namespace Lumina.Media;

/// <summary>
/// The image file formats a result can be saved as, chosen by the file's extension: <c>.png</c> (the default, and the
/// only one that records <see cref="Lumina.Pipelines.GenerationMetadata"/>), <c>.jpg</c>/<c>.jpeg</c>, <c>.webp</c>,
/// <c>.bmp</c>, <c>.gif</c>, <c>.tga</c> and <c>.tif</c>/<c>.tiff</c>.
/// </summary>
public static class ImageFileFormats
{
    private static readonly Dictionary<string, Func<IImageEncoder>> Encoders = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = () => new PngEncoder(),
        [".jpg"] = () => new JpegEncoder { Quality = 95 },
        [".jpeg"] = () => new JpegEncoder { Quality = 95 },
        [".webp"] = () => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        [".bmp"] = () => new BmpEncoder(),
        [".gif"] = () => new GifEncoder(),
        [".tga"] = () => new TgaEncoder(),
        [".tif"] = () => new TiffEncoder(),
        [".tiff"] = () => new TiffEncoder(),
    };

    /// <summary>The extensions accepted, for messages and help text.</summary>
    public static IReadOnlyCollection<string> Extensions => Encoders.Keys;

    /// <summary>Whether <paramref name="path"/>'s extension names a supported format (no extension counts as PNG).</summary>
    public static bool IsSupported(string path) => Path.GetExtension(path) is not { Length: > 0 } ext || Encoders.ContainsKey(ext);

    /// <summary>The encoder for <paramref name="path"/>'s extension; a path without extension gets PNG.</summary>
    /// <exception cref="ArgumentException">The extension names no supported image format.</exception>
    public static IImageEncoder EncoderFor(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var ext = Path.GetExtension(path);
        if (ext.Length == 0)
            return new PngEncoder();
        return Encoders.TryGetValue(ext, out var make)
            ? make()
            : throw new ArgumentException($"'{path}': '{ext}' is not an image format this can write; use {string.Join(", ", Extensions)}.", nameof(path));
    }

    /// <summary>Whether the encoder keeps PNG text chunks (the generation metadata).</summary>
    public static bool KeepsMetadata(IImageEncoder encoder) => encoder is PngEncoder;
}
