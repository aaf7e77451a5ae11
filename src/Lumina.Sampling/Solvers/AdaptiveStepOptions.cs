namespace Lumina.Solvers;

/// <summary>
/// Tolerances and step-size controller settings of the adaptive solver. The defaults are torchdiffeq's
/// controller constants and upstream Lumina's tolerances (atol 1e-6, rtol 1e-3).
/// </summary>
public sealed record AdaptiveStepOptions
{
    /// <summary>Absolute tolerance per element. Default 1e-6.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-6;

    /// <summary>Relative tolerance per element. Default 1e-3.</summary>
    public double RelativeTolerance { get; init; } = 1e-3;

    /// <summary>Safety factor applied to the optimal step size. Default 0.9.</summary>
    public double Safety { get; init; } = 0.9;

    /// <summary>Largest factor by which a step may grow. Default 10.</summary>
    public double IncreaseFactor { get; init; } = 10.0;

    /// <summary>Smallest factor by which a rejected step may shrink. Default 0.2.</summary>
    public double DecreaseFactor { get; init; } = 0.2;

    /// <summary>Smallest step; a step this small is always accepted. Default 0.</summary>
    public double MinStep { get; init; }

    /// <summary>Largest step. Default +∞.</summary>
    public double MaxStep { get; init; } = double.PositiveInfinity;

    /// <summary>The first step size; <see langword="null"/> selects it from the problem (Hairer–Nørsett–Wanner II.4).</summary>
    public double? FirstStep { get; init; }

    /// <summary>Most integration steps allowed between two grid times before the solve fails. Default 2³¹−1.</summary>
    public int MaxStepsPerInterval { get; init; } = int.MaxValue;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(AbsoluteTolerance >= 0) || !(RelativeTolerance >= 0) || AbsoluteTolerance + RelativeTolerance <= 0)
            throw new ArgumentException($"Tolerances must be non-negative and not both zero (atol {AbsoluteTolerance}, rtol {RelativeTolerance}).");
        if (!(Safety > 0 && Safety <= 1))
            throw new ArgumentException($"Safety must be in (0, 1], got {Safety}.");
        if (!(IncreaseFactor >= 1))
            throw new ArgumentException($"IncreaseFactor must be at least 1, got {IncreaseFactor}.");
        if (!(DecreaseFactor > 0 && DecreaseFactor <= 1))
            throw new ArgumentException($"DecreaseFactor must be in (0, 1], got {DecreaseFactor}.");
        if (!(MinStep >= 0) || !(MaxStep > MinStep))
            throw new ArgumentException($"Need 0 ≤ MinStep < MaxStep, got MinStep {MinStep}, MaxStep {MaxStep}.");
        if (FirstStep is { } h && !(h > 0 && double.IsFinite(h)))
            throw new ArgumentException($"FirstStep must be positive and finite, got {h}.");
        if (MaxStepsPerInterval < 1)
            throw new ArgumentException($"MaxStepsPerInterval must be at least 1, got {MaxStepsPerInterval}.");
    }
}
