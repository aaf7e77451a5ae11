namespace Lumina.Models.Autoencoders;

/// <summary>
/// How <see cref="AutoencoderKL"/> tiles large images. Tiles overlap; in each overlap the tiles are cross-faded with
/// linear weights. With <see cref="WholeImageStatistics"/> (the default) a tiled result differs from the untiled one
/// mainly near the tile seams. Memory then depends on the tile size, not on the image size (apart from
/// latent-resolution tensors, 1/64 of the pixels).
/// </summary>
public sealed record VaeTilingOptions
{
    /// <summary>Tiling is automatic; tile size from the model config.</summary>
    public static VaeTilingOptions Default { get; } = new();

    /// <summary>Never tiles.</summary>
    public static VaeTilingOptions Disabled { get; } = new() { Enabled = false };

    /// <summary>When to tile: null (the default) tiles only when the image area exceeds <see cref="AutoThresholdPixels"/>;
    /// true always tiles (a single tile when the image fits in one); false never tiles (one pass over the whole image,
    /// whatever it costs in memory).</summary>
    public bool? Enabled { get; init; }

    /// <summary>
    /// Tile edge in image pixels; null uses the config's <c>sample_size</c> (1024 for SDXL), as diffusers does.
    /// Rounded down to a multiple of the VAE's downscale factor. Smaller tiles use less memory.
    /// </summary>
    public int? TileSize { get; init; }

    /// <summary>Fraction of a tile shared with its neighbour, in (0, 0.5]. Default 0.25 (as diffusers).</summary>
    public double OverlapFraction { get; init; } = 0.25;

    /// <summary>
    /// When true (the default), the tiles behave as parts of one image: the latent-resolution part (the mid block with
    /// its attention) runs on the whole latent, and every GroupNorm in the tiled part normalises with whole-image
    /// statistics gathered in a first pass over the tiles. Tiles then differ from an untiled pass only near their seams,
    /// at the cost of that extra pass (about 2× the tile work). False decodes each tile independently, as diffusers
    /// does: faster, but tiles may shift in colour and contrast against each other.
    /// </summary>
    public bool WholeImageStatistics { get; init; } = true;

    /// <summary>With <see cref="Enabled"/> null, tile when height × width in pixels exceeds this. Default 1024².</summary>
    public long AutoThresholdPixels { get; init; } = 1024L * 1024;

    /// <summary>Checks the numbers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message says which.</exception>
    public void Validate()
    {
        if (TileSize is <= 0) throw new ArgumentOutOfRangeException(nameof(TileSize), TileSize, "Tile size must be positive (pixels).");
        if (!(OverlapFraction > 0 && OverlapFraction <= 0.5))
            throw new ArgumentOutOfRangeException(nameof(OverlapFraction), OverlapFraction, "Overlap must be in (0, 0.5] of a tile.");
        if (AutoThresholdPixels <= 0) throw new ArgumentOutOfRangeException(nameof(AutoThresholdPixels), AutoThresholdPixels, "The auto threshold must be positive.");
    }
}
