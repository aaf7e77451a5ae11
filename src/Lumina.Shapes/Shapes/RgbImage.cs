using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training.Shapes;

/// <summary>A small 8-bit RGB image (row-major, interleaved R, G, B), the currency of the renderer and the analyser.</summary>
public sealed class RgbImage
{
    /// <summary>Wraps existing pixels.</summary>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="pixels">width·height·3 bytes, row-major RGB.</param>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"A {width}×{height} RGB image needs {width * height * 3} bytes; got {pixels.Length}.", nameof(pixels));
        (Width, Height, Pixels) = (width, height, pixels);
    }

    /// <summary>Creates a blank image filled with one colour.</summary>
    public RgbImage(int width, int height, NamedColor fill) : this(width, height, new byte[width * height * 3])
    {
        ArgumentNullException.ThrowIfNull(fill);
        for (var i = 0; i < Pixels.Length; i += 3) (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = (fill.R, fill.G, fill.B);
    }

    /// <summary>Copies the pixels of an ImageSharp image (for example a pipeline's output).</summary>
    public static RgbImage FromImage(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var pixels = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(pixels);
        return new RgbImage(image.Width, image.Height, pixels);
    }

    /// <summary>The pixels as an ImageSharp image (for saving as PNG).</summary>
    public Image<Rgb24> ToImage() => Image.LoadPixelData<Rgb24>(Pixels, Width, Height);

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Row-major interleaved RGB bytes.</summary>
    public byte[] Pixels { get; }

    /// <summary>Sets one pixel.</summary>
    public void Set(int x, int y, NamedColor color)
    {
        var i = (y * Width + x) * 3;
        (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = (color.R, color.G, color.B);
    }

    /// <summary>The image as a float tensor [3, H, W] scaled to [−1, 1] (the pixel-space training range, upstream's Normalize(0.5, 0.5)).</summary>
    public Tensor ToTensor(Device? device = null)
    {
        using var scope = NewDisposeScope();
        var t = tensor(Pixels, [Height, Width, 3]).permute(2, 0, 1).to_type(ScalarType.Float32).div_(127.5).sub_(1.0).contiguous();
        return (device is null ? t : t.to(device)).MoveToOuterDisposeScope();
    }

    /// <summary>Reads a tensor [3, H, W] (or [1, 3, H, W]) in [−1, 1], clamping and rounding to 8 bits.</summary>
    public static RgbImage FromTensor(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var scope = NewDisposeScope();
        var x = image.dim() == 4 && image.shape[0] == 1 ? image.squeeze(0) : image;
        if (x.dim() != 3 || x.shape[0] != 3)
            throw new ArgumentException($"Expected an RGB image tensor [3, H, W]; got [{string.Join(", ", image.shape)}].", nameof(image));
        var bytes = x.detach().to(CPU).to_type(ScalarType.Float32).add(1.0).mul(127.5).round().clamp(0, 255)
            .to_type(ScalarType.Byte).permute(1, 2, 0).contiguous();
        return new RgbImage((int)x.shape[2], (int)x.shape[1], bytes.data<byte>().ToArray());
    }
}
