namespace Lumina.Guidance;

/// <summary>Classifier-free guidance settings for a sampling run.</summary>
public sealed record GuidanceOptions
{
    /// <summary>The guidance scale s in <c>uncond + s·(cond − uncond)</c>. Upstream Lumina-Next uses 4.</summary>
    public double Scale { get; init; } = 4.0;

    /// <summary>Which channels are guided: Lumina's channels 0..2 (default, upstream-exact) or all.</summary>
    public GuidanceChannels Channels { get; init; } = GuidanceChannels.LuminaFirstThree;

    /// <summary>
    /// Guidance truncation: from this flow time on (t ≥ value; 0 = noise, 1 = data) the conditioned output is
    /// used without guidance, and only the conditioned half is evaluated when a conditioned-only model is given.
    /// <see langword="null"/> guides every step. Lumina-Image-2.0's <c>cfg_trunc_ratio</c> r stops after the
    /// fraction r of the steps; on a grid this is the time reached after that fraction.
    /// </summary>
    public double? TruncateAfter { get; init; }

    /// <summary>
    /// Renormalisation (Lumina-Image-2.0's <c>cfg_normalization</c>): rescale the guided output so that its norm
    /// over the last dimension equals the conditioned output's, which tames over-saturation at high scales.
    /// Applied to the guided channels only.
    /// </summary>
    public bool Renormalize { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!double.IsFinite(Scale))
            throw new ArgumentException($"The guidance scale must be finite, got {Scale}.");
        if (TruncateAfter is { } t && !(t >= 0 && t <= 1))
            throw new ArgumentException($"TruncateAfter is a flow time in [0, 1], got {t}.");
    }
}
