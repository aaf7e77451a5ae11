namespace Lumina.Solvers;

/// <summary>The SDE integration scheme.</summary>
public enum SdeMethod
{
    /// <summary>Euler–Maruyama: drift step, then Gaussian noise scaled by √(2·diffusion·dt).</summary>
    EulerMaruyama,

    /// <summary>Stochastic Heun: add the noise first, then a Heun (predictor–corrector) drift step.</summary>
    Heun,
}

/// <summary>The form of the diffusion coefficient w(t) of the sampling SDE, as upstream names them.</summary>
public enum DiffusionForm
{
    /// <summary><c>norm</c>.</summary>
    Constant,

    /// <summary>Score-based diffusion matching: <c>norm·((1−t)²/t + (1−t))</c> for the linear path (infinite at t = 0).</summary>
    Sbdm,

    /// <summary><c>norm·σ(t) = norm·(1−t)</c>.</summary>
    Sigma,

    /// <summary><c>norm·(1−t)</c>.</summary>
    Linear,

    /// <summary><c>¼·(norm·cos(πt) + 1)²</c>.</summary>
    Decreasing,

    /// <summary><c>norm·sin²(πt)</c> (upstream spells it "inccreasing-decreasing").</summary>
    IncreasingDecreasing,
}

/// <summary>What happens after the last SDE step (upstream <c>last_step</c>).</summary>
public enum SdeLastStep
{
    /// <summary>Nothing: the last SDE state is the sample.</summary>
    None,

    /// <summary>A noise-free step with the SDE drift: <c>x + drift_sde(x, t₁)·size</c>.</summary>
    Mean,

    /// <summary>Tweedie's denoiser: <c>x/α + σ²/α·score</c> at t₁.</summary>
    Tweedie,

    /// <summary>A noise-free Euler step with the velocity: <c>x + v(x, t₁)·size</c>.</summary>
    Euler,
}

/// <summary>
/// Settings of the SDE sampler (upstream <c>Sampler.sample_sde</c>) for the linear flow path with a velocity
/// model. Defaults follow upstream except <see cref="SampleEpsilon"/>.
/// </summary>
public sealed record SdeOptions
{
    /// <summary>The scheme. Default Euler–Maruyama.</summary>
    public SdeMethod Method { get; init; } = SdeMethod.EulerMaruyama;

    /// <summary>The diffusion coefficient's form. Default SBDM.</summary>
    public DiffusionForm DiffusionForm { get; init; } = DiffusionForm.Sbdm;

    /// <summary>The diffusion coefficient's magnitude. Default 1.</summary>
    public double DiffusionNorm { get; init; } = 1.0;

    /// <summary>The final step. Default <see cref="SdeLastStep.Mean"/>.</summary>
    public SdeLastStep LastStep { get; init; } = SdeLastStep.Mean;

    /// <summary>Size of the final step; the SDE runs to <c>1 − LastStepSize</c>. Default 0.04.</summary>
    public double LastStepSize { get; init; } = 0.04;

    /// <summary>Grid points of the SDE (upstream <c>num_steps</c>): N points give N−1 stochastic steps, then
    /// the last step. Default 250.</summary>
    public int NumSteps { get; init; } = 250;

    /// <summary>
    /// Start time with the SBDM form (upstream <c>sample_eps</c>); other forms start at 0. Upstream's default
    /// for velocity models is 0, where SBDM diffusion is infinite and the sample turns into NaN; we default to
    /// 1e-3, upstream's epsilon for the other model types.
    /// </summary>
    public double SampleEpsilon { get; init; } = 1e-3;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (NumSteps < 2)
            throw new ArgumentException($"NumSteps must be at least 2 (one SDE step), got {NumSteps}.");
        if (!(DiffusionNorm >= 0) || !double.IsFinite(DiffusionNorm))
            throw new ArgumentException($"DiffusionNorm must be finite and non-negative, got {DiffusionNorm}.");
        if (!(LastStepSize >= 0 && LastStepSize < 1))
            throw new ArgumentException($"LastStepSize must be in [0, 1), got {LastStepSize}.");
        if (!(SampleEpsilon >= 0 && SampleEpsilon < 1))
            throw new ArgumentException($"SampleEpsilon must be in [0, 1), got {SampleEpsilon}.");
        if (DiffusionForm == DiffusionForm.Sbdm && SampleEpsilon == 0)
            throw new ArgumentException("The SBDM diffusion is infinite at t = 0: set SampleEpsilon > 0 (e.g. 1e-3) or pick another DiffusionForm.");
    }
}
