namespace Lumina.Sampling;

/// <summary>
/// Step caching (the TeaCache idea), off unless set: before each transformer call the sampler measures how much the
/// first block's timestep-modulated input changed since the previous call (relative L1), accumulates that change since
/// the last full evaluation, and while the sum stays below <see cref="Threshold"/> skips the transformer blocks and
/// reuses their last residual. The first and last solver steps always evaluate. Higher thresholds skip more calls and
/// drift further from the uncached result; 0 skips nothing (the output is bit-identical to no caching).
/// <para>Supported by Lumina-Next (<c>NextDiT</c>); other transformers ignore it and evaluate every
/// call. The pipelines' <c>TextToImageResult.Evaluations</c> reports how many calls ran and how many were skipped.</para>
/// </summary>
public sealed record StepCacheOptions
{
    /// <summary>
    /// Accumulated relative L1 change of the modulated input below which a call reuses the cached residual (finite, ≥ 0).
    /// Default 0.05: on the demo model it skips two thirds of the calls with unchanged prompt adherence (see
    /// docs/performance.md); TeaCache's 0.1–0.6 apply to its rescaled changes, not to these raw ones.
    /// </summary>
    public double Threshold { get; init; } = 0.05;

    /// <summary>Checks the options; the exception's <c>ParamName</c> is <paramref name="field"/>.</summary>
    /// <param name="field">The request or settings property holding these options.</param>
    public void Validate(string field)
    {
        if (!(double.IsFinite(Threshold) && Threshold >= 0))
            throw new ArgumentOutOfRangeException(field, Threshold,
                $"{field}.{nameof(Threshold)} must be a finite number ≥ 0; got {Threshold}. 0 skips nothing; try 0.05–0.3, or leave {field} null to turn caching off.");
    }
}
