using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The identity latent space of a DiT trained directly on RGB pixels in [−1, 1] (3 channels, no downscaling). A
/// diffusers folder selects it with <c>"vae": [null, null]</c> in <c>model_index.json</c>. Holds no native memory.
/// </summary>
public sealed class PixelSpace : IImageLatentSpace
{
    /// <summary>Creates the pixel space.</summary>
    /// <param name="device">Where images are produced; null is the CPU.</param>
    /// <param name="dtype">Element type of the images; null is float32.</param>
    public PixelSpace(Device? device = null, ScalarType? dtype = null)
    {
        Device = device ?? CPU;
        DType = dtype ?? ScalarType.Float32;
    }

    /// <inheritdoc />
    public int LatentChannels => 3;

    /// <inheritdoc />
    public int DownscaleFactor => 1;

    /// <inheritdoc />
    public ScalarType DType { get; }

    /// <inheritdoc />
    public Device Device { get; }

    /// <inheritdoc />
    public Tensor EncodeToLatents(Tensor image, Generator? generator = null, CancellationToken cancellationToken = default)
    {
        Check(image, nameof(image));
        return image.to(DType, Device, copy: true);
    }

    /// <inheritdoc />
    public Tensor DecodeLatents(Tensor latents, CancellationToken cancellationToken = default)
    {
        Check(latents, nameof(latents));
        return latents.to(DType, Device, copy: true);
    }

    /// <summary>Nothing to free.</summary>
    public void Dispose()
    {
    }

    private static void Check(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.dim() != 4 || t.shape[1] != 3)
            throw new ArgumentException($"Pixel-space tensors are (B, 3, H, W); got [{string.Join(", ", t.shape)}].", name);
    }
}
