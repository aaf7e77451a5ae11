using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Pipelines;

/// <summary>
/// img2img, as upstream's <c>lumina_next_t2i_mini/sample_img2img.py</c>: the image is VAE-encoded to x1, the grid is
/// cut to start at t0 = grid[int(points·(1 − strength))], and sampling starts from <c>noise·(1 − t0) + x1·t0</c>.
/// The output has the input's size. With strength 1 the result equals text-to-image with the same seed.
/// </summary>
public sealed record ImageToImageRequest : TextToImageRequest
{
    /// <summary>Edits <paramref name="image"/> towards <paramref name="prompt"/>. The caller keeps ownership of the image.</summary>
    public ImageToImageRequest(string prompt, Image<Rgb24> image) : base(prompt)
    {
        Image = image;
        Width = image?.Width ?? 0;
        Height = image?.Height ?? 0;
    }

    /// <summary>The starting image; its size must be a multiple of 16 (resize or crop first).</summary>
    public Image<Rgb24> Image { get; init; }

    /// <summary>How much to change the image, in (0, 1]: 1 ignores it, small values keep it (upstream uses 0.6).</summary>
    public double Strength { get; init; } = 0.6;

    /// <inheritdoc />
    public override void Validate()
    {
        if (Image is null) throw new ArgumentNullException(nameof(Image), "Pass the image to start from.");
        if (Width != Image.Width || Height != Image.Height)
            throw new ArgumentException(
                $"{nameof(Width)}×{nameof(Height)} ({Width}×{Height}) must equal the image's size ({Image.Width}×{Image.Height}); img2img keeps the input size.",
                nameof(Image));
        base.Validate();
        RequestValidation.UnitInterval(Strength, nameof(Strength), allowZero: false, "Upstream uses 0.6; 1 ignores the image.");
    }
}
