namespace Lumina.Models.Autoencoders;

/// <summary>What a VAE stage does to its spatial axes at its end.</summary>
internal enum VaeResample
{
    /// <summary>Keeps the size.</summary>
    None,

    /// <summary>Halves it (<c>downsample</c> / <c>downsamplers.0</c>).</summary>
    Down,

    /// <summary>Doubles it (<c>upsample</c> / <c>upsamplers.0</c>).</summary>
    Up,
}
