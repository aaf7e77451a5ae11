namespace Lumina.Models.Autoencoders;

/// <summary>What a mel VAE level does to the time axis at its end.</summary>
internal enum Vae1DResample
{
    /// <summary>Keeps the length.</summary>
    None,

    /// <summary>Halves it (<c>downsample</c>).</summary>
    Down,

    /// <summary>Doubles it (<c>upsample</c>).</summary>
    Up,
}
