using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The space a text-to-image DiT denoises in, and the way between it and pixels: an <see cref="AutoencoderKL"/> (the
/// SDXL VAE of Lumina-Next and Lumina-T2I) or <see cref="PixelSpace"/> for models trained on pixels (the demo model).
/// Images are (B, 3, H, W) in [−1, 1]; latents are (B, <see cref="LatentChannels"/>, H / f, W / f) with
/// f = <see cref="DownscaleFactor"/>, already scaled as the diffusion model sees them.
/// </summary>
public interface IImageLatentSpace : IDisposable
{
    /// <summary>Channels of a latent (4 for the SDXL VAE, 3 in pixel space).</summary>
    int LatentChannels { get; }

    /// <summary>Pixels per latent cell along each axis (8 for the SDXL VAE, 1 in pixel space).</summary>
    int DownscaleFactor { get; }

    /// <summary>Element type the encoder and decoder compute in.</summary>
    ScalarType DType { get; }

    /// <summary>Device the encoder and decoder compute on.</summary>
    Device Device { get; }

    /// <summary>Images in [−1, 1] → latents (a VAE samples its posterior with <paramref name="generator"/>).</summary>
    /// <param name="image">(B, 3, H, W) on <see cref="Device"/> in <see cref="DType"/>.</param>
    /// <param name="generator">Seeded generator for a stochastic encoder; null uses the global one.</param>
    /// <param name="cancellationToken">Checked during long encodes.</param>
    Tensor EncodeToLatents(Tensor image, Generator? generator = null, CancellationToken cancellationToken = default);

    /// <summary>Latents → images in about [−1, 1] (not clamped).</summary>
    /// <param name="latents">(B, <see cref="LatentChannels"/>, h, w) on <see cref="Device"/> in <see cref="DType"/>.</param>
    /// <param name="cancellationToken">Checked during long decodes.</param>
    Tensor DecodeLatents(Tensor latents, CancellationToken cancellationToken = default);
}
