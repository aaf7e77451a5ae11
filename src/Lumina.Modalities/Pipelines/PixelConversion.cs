using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// VAE output → 8-bit image: <c>(x + 1) / 2</c> clamped to [0, 1], times 255, rounded. Stand-in until the Media
/// helpers (latents ↔ <see cref="Image{Rgb24}"/>) land in <c>Lumina.Media</c>.
/// </summary>
internal static class PixelConversion
{
    public static Image<Rgb24> ToImage(Tensor chw)
    {
        if (chw.dim() != 3 || chw.shape[0] != 3)
            throw new ArgumentException($"Expected a [3, H, W] image tensor; got [{string.Join(", ", chw.shape)}].", nameof(chw));
        using var scope = NewDisposeScope();
        var bytes = chw.to_type(ScalarType.Float32).add(1).div(2).clamp(0, 1).mul(255).round()
            .to_type(ScalarType.Byte).permute(1, 2, 0).contiguous().cpu();
        var data = bytes.data<byte>().ToArray();
        return Image.LoadPixelData<Rgb24>(data, (int)chw.shape[2], (int)chw.shape[1]);
    }
}
