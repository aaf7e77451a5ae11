using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Media;

/// <summary>
/// Converts between decoded VAE tensors and ImageSharp images. Tensor side: (B, 3, H, W) floating point in [−1, 1]
/// (what <c>AutoencoderKL.Decode</c> returns and <c>Encode</c> expects). Image side: 8-bit RGB. Decoding maps
/// <c>x → round(255 · clamp((x + 1) / 2, 0, 1))</c> (half to even, as diffusers' numpy round); encoding maps
/// <c>p → p / 127.5 − 1</c>.
/// </summary>
public static class ImageTensorConverter
{
    /// <summary>Converts a batch of decoded images to 8-bit RGB images (caller disposes them).</summary>
    /// <param name="decoded">(B, 3, H, W) or (3, H, W), floating point, nominally in [−1, 1]; any device.</param>
    /// <exception cref="ArgumentException">The tensor is not 3-channel image data.</exception>
    public static Image<Rgb24>[] ToImages(Tensor decoded)
    {
        ArgumentNullException.ThrowIfNull(decoded);
        using var scope = NewDisposeScope();
        var batch = decoded.dim() == 3 ? decoded.unsqueeze(0) : decoded;
        if (batch.dim() != 4 || batch.shape[1] != 3 || batch.shape[2] == 0 || batch.shape[3] == 0)
            throw new ArgumentException($"Expected decoded images shaped (B, 3, H, W) or (3, H, W); got [{string.Join(", ", decoded.shape)}].", nameof(decoded));
        if (!batch.is_floating_point())
            throw new ArgumentException($"Decoded images must be floating point in [-1, 1]; got {decoded.dtype}.", nameof(decoded));
        int height = (int)batch.shape[2], width = (int)batch.shape[3];
        // Round in float32 (torch.round is half-to-even) before the byte cast, which would truncate.
        var bytes = batch.detach().to(ScalarType.Float32, CPU).add(1).div_(2).clamp_(0, 1).mul_(255).round_()
            .to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        var images = new Image<Rgb24>[batch.shape[0]];
        var perImage = height * width * 3;
        var all = bytes.data<byte>().ToArray();
        for (var i = 0; i < images.Length; i++)
            images[i] = Image.LoadPixelData<Rgb24>(all.AsSpan(i * perImage, perImage), width, height);
        return images;
    }

    /// <summary>Converts one decoded image, (1, 3, H, W) or (3, H, W), to an 8-bit RGB image.</summary>
    /// <exception cref="ArgumentException">The tensor holds more than one image or is not image data.</exception>
    public static Image<Rgb24> ToImage(Tensor decoded)
    {
        ArgumentNullException.ThrowIfNull(decoded);
        if (decoded.dim() == 4 && decoded.shape[0] != 1)
            throw new ArgumentException($"ToImage takes one image; got a batch of {decoded.shape[0]}. Use ToImages.", nameof(decoded));
        return ToImages(decoded)[0];
    }

    /// <summary>
    /// Converts an image to a (1, 3, H, W) tensor in [−1, 1] for <c>AutoencoderKL.Encode</c> (img2img). The VAE needs H
    /// and W divisible by its downscale factor (8 for SDXL); resize or crop first if they are not.
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="dtype">Element type; null is float32.</param>
    /// <param name="device">Device; null is the CPU.</param>
    public static Tensor FromImage(Image<Rgb24> image, ScalarType? dtype = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        return FromImages([image], dtype, device);
    }

    /// <summary>Converts same-sized images to a (B, 3, H, W) tensor in [−1, 1].</summary>
    /// <exception cref="ArgumentException">The list is empty or the sizes differ.</exception>
    public static Tensor FromImages(IReadOnlyList<Image<Rgb24>> images, ScalarType? dtype = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("Pass at least one image.", nameof(images));
        int width = images[0].Width, height = images[0].Height;
        var perImage = width * height * 3;
        var buffer = new byte[(long)perImage * images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            if (images[i].Width != width || images[i].Height != height)
                throw new ArgumentException($"All images must have the same size; image {i} is {images[i].Width}×{images[i].Height}, image 0 is {width}×{height}.", nameof(images));
            images[i].CopyPixelDataTo(buffer.AsSpan(i * perImage, perImage));
        }
        using var scope = NewDisposeScope();
        var t = tensor(buffer, [images.Count, height, width, 3])
            .permute(0, 3, 1, 2).to(ScalarType.Float32).div_(127.5).sub_(1)
            .to(dtype ?? ScalarType.Float32, device ?? CPU).contiguous();
        return t.MoveToOuterDisposeScope();
    }
}
