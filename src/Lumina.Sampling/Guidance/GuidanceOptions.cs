namespace Lumina.Guidance;

/// <summary>
/// Classifier-free guidance settings for a sampling run: <c>g = uncond + s·(cond − uncond)</c> on the guided channels,
/// optionally switched off late in the run (truncation) and renormalised. Each option is named for what it does, so
/// upstream Lumina's and diffusers' variants can be chosen independently.
/// </summary>
public sealed record GuidanceOptions
{
    /// <summary>The guidance scale s in <c>uncond + s·(cond − uncond)</c>. Upstream Lumina-Next uses 4.</summary>
    public double Scale { get; init; } = 4.0;

    /// <summary>Which channels are guided: Lumina-Next's channels 0..2 (default, upstream-exact) or all (most families).</summary>
    public GuidanceChannels Channels { get; init; } = GuidanceChannels.LuminaFirstThree;

    /// <summary>
    /// Truncation by time (upstream Lumina-Image 2.0 <c>cfg_trunc</c>): guide only while the flow time t &lt; this value
    /// (strict; t = 0 noise, t = 1 data); at t ≥ value the model runs on the conditional half alone and its output is the
    /// velocity. <see langword="null"/> guides at every time.
    /// </summary>
    public double? TruncateAtTime { get; init; }

    /// <summary>
    /// Truncation by step fraction (diffusers <c>Lumina2Pipeline</c> <c>cfg_trunc_ratio</c>): step i (0-based) of N runs
    /// the conditional half alone when <c>(i + 1) / N &gt; value</c>. Needs the step index, which the sampling loop
    /// supplies. <see langword="null"/> (or 1) guides every step.
    /// </summary>
    public double? TruncateAfterStepFraction { get; init; }

    /// <summary>
    /// Upstream Lumina-Image 2.0's <c>renorm_cfg</c> r: when ‖g‖ ≥ r·‖cond‖ (L2 over every dimension but the batch, per
    /// sample, over the guided channels) the guided output is scaled by <c>r·‖cond‖/‖g‖</c>, i.e. clipped to r times the
    /// conditional norm. 0 (the default) disables it.
    /// </summary>
    public double ClipToConditionalNorm { get; init; }

    /// <summary>
    /// diffusers' <c>cfg_normalization</c>: always rescale the guided output so its norm along the last axis (per row)
    /// equals the conditional output's. Applied after <see cref="ClipToConditionalNorm"/>, to the guided channels only.
    /// </summary>
    public bool RescaleToConditionalNorm { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!double.IsFinite(Scale))
            throw new ArgumentException($"The guidance scale must be finite, got {Scale}.");
        if (!Enum.IsDefined(Channels))
            throw new ArgumentException($"Channels must be {nameof(GuidanceChannels.LuminaFirstThree)} or {nameof(GuidanceChannels.All)}, got {Channels}.");
        if (TruncateAtTime is { } t && !(t >= 0 && t <= 1))
            throw new ArgumentException($"TruncateAtTime is a flow time in [0, 1], got {t}.");
        if (TruncateAfterStepFraction is { } f && !(f >= 0 && f <= 1))
            throw new ArgumentException($"TruncateAfterStepFraction is a fraction of the steps in [0, 1], got {f}.");
        if (!(double.IsFinite(ClipToConditionalNorm) && ClipToConditionalNorm >= 0))
            throw new ArgumentException($"ClipToConditionalNorm must be finite and ≥ 0 (0 disables it), got {ClipToConditionalNorm}.");
    }

    /// <summary>
    /// Whether a model call at flow time <paramref name="time"/>, in step <paramref name="step"/> (0-based) of
    /// <paramref name="totalSteps"/>, is guided (runs both halves) or truncated (runs the conditional half alone).
    /// </summary>
    /// <param name="time">The flow time of the call.</param>
    /// <param name="step">The 0-based index of the grid interval the call belongs to; only read for step-fraction truncation.</param>
    /// <param name="totalSteps">Grid intervals in the run; only read for step-fraction truncation.</param>
    /// <exception cref="InvalidOperationException">Step-fraction truncation is set but no step position was given.</exception>
    public bool IsGuidedAt(double time, int? step = null, int? totalSteps = null)
    {
        if (TruncateAtTime is { } cutoff && !(time < cutoff)) return false;
        if (TruncateAfterStepFraction is { } ratio)
        {
            if (step is not int i || totalSteps is not int n || n < 1)
                throw new InvalidOperationException(
                    "TruncateAfterStepFraction needs the step index and step count; run guidance through the sampling loop or pass them.");
            if ((double)(i + 1) / n > ratio) return false;
        }
        return true;
    }
}
