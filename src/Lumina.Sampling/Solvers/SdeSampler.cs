using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// Stochastic sampling of a flow-matching model on the linear path x_t = t·x₁ + (1−t)·x₀ (upstream
/// <c>Sampler.sample_sde</c>). The SDE drift is <c>v + w(t)·score</c> with the score recovered from the
/// velocity, <c>score = (t·v − x)/(1−t)</c>, and the noise term is <c>√(2·w(t))·dW</c>.
/// </summary>
/// <remarks>
/// Upstream evaluates the model twice for each drift (once for the velocity and once inside the score); the
/// two calls give the same tensor, so this sampler calls it once and reuses the result. Noise is drawn on the
/// CPU from the given generator in the state's shape, then moved to the state's device and dtype, as upstream
/// draws <c>torch.randn(x.size())</c>.
/// </remarks>
public sealed class SdeSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="options">Settings; <see langword="null"/> for the defaults.</param>
    public SdeSampler(SdeOptions? options = null)
    {
        Options = options ?? new SdeOptions();
        Options.Validate();
    }

    /// <summary>The settings.</summary>
    public SdeOptions Options { get; }

    /// <summary>The SDE's start and end time (upstream <c>check_interval</c> for a velocity model).</summary>
    public (double T0, double T1) Interval
    {
        get
        {
            var eps = Options.DiffusionForm == DiffusionForm.Sbdm ? Options.SampleEpsilon : 0.0;
            var size = Options.LastStep == SdeLastStep.None ? 0.0 : Options.LastStepSize;
            var t1 = size == 0 ? 1 - Options.SampleEpsilon : 1 - size;
            return (eps, t1);
        }
    }

    /// <summary>The grid times: the SDE grid, plus t = 1 (or <c>t₁ + size</c>) when there is a last step.</summary>
    public double[] Times()
    {
        var (t0, t1) = Interval;
        var grid = Schedulers.TimeGrid.Linspace(t0, t1, Options.NumSteps);
        if (Options.LastStep == SdeLastStep.None) return grid;
        var end = Options.LastStep == SdeLastStep.Tweedie ? 1.0 : Math.Min(1.0, grid[^1] + Options.LastStepSize);
        return end > grid[^1] ? grid.Append(end).ToArray() : grid;
    }

    /// <summary>The diffusion coefficient w(t).</summary>
    /// <param name="t">Flow time.</param>
    public double Diffusion(double t)
    {
        var n = Options.DiffusionNorm;
        return Options.DiffusionForm switch
        {
            DiffusionForm.Constant => n,
            DiffusionForm.Sbdm => n * ((1 - t) * (1 - t) / t + (1 - t)),
            DiffusionForm.Sigma => n * (1 - t),
            DiffusionForm.Linear => n * (1 - t),
            DiffusionForm.Decreasing => 0.25 * Math.Pow(n * Math.Cos(Math.PI * t) + 1, 2),
            DiffusionForm.IncreasingDecreasing => n * Math.Pow(Math.Sin(Math.PI * t), 2),
            _ => throw new InvalidOperationException($"Unknown diffusion form {Options.DiffusionForm}."),
        };
    }

    /// <summary>Samples from <paramref name="x0"/> (noise at the start time).</summary>
    /// <param name="velocity">The velocity field.</param>
    /// <param name="x0">The initial noise. Not modified.</param>
    /// <param name="generator">The CPU random generator for the Brownian increments; seed it for reproducible runs.</param>
    /// <param name="options">Trajectory capture, per-step callback and progress.</param>
    /// <param name="cancellationToken">Checked before every velocity call.</param>
    public OdeSolution Sample(VelocityFunction velocity, torch.Tensor x0, torch.Generator generator,
        SolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var times = Times();
        using var run = new SolverRun(velocity, x0, times, options, cancellationToken);
        var (_, t1) = Interval;
        var sdeGrid = Schedulers.TimeGrid.Linspace(Interval.T0, t1, Options.NumSteps);
        var dt = run.Round(sdeGrid[1] - sdeGrid[0]);   // upstream uses one constant dt = t[1] − t[0]
        var sqrtDt = Math.Sqrt(dt);
        var x = SolverRun.Copy(x0);
        try
        {
            var stopped = false;
            for (var i = 0; i < sdeGrid.Length - 1 && !stopped; i++)
            {
                run.ThrowIfCancelled();
                var t = run.Round(sdeGrid[i]);
                torch.Tensor next;
                using (var scope = torch.NewDisposeScope())
                {
                    var dw = Noise(x, generator) * sqrtDt;
                    next = (Options.Method == SdeMethod.EulerMaruyama
                        ? EulerMaruyamaStep(run, x, t, dt, dw)
                        : HeunStep(run, x, t, dt, dw)).MoveToOuterDisposeScope();
                }
                x.Dispose();
                x = next;
                stopped = !run.Reached(i + 1, ref x);
            }
            if (!stopped && times.Length > sdeGrid.Length)
            {
                run.ThrowIfCancelled();
                torch.Tensor next;
                using (var scope = torch.NewDisposeScope())
                    next = LastStep(run, x, t1).MoveToOuterDisposeScope();
                x.Dispose();
                x = next;
                run.Reached(times.Length - 1, ref x);
            }
            return run.Finish(x, run.CompletedSteps, 0);
        }
        catch
        {
            x.Dispose();
            throw;
        }
    }

    private static torch.Tensor Noise(torch.Tensor x, torch.Generator generator)
        => torch.randn(x.shape, dtype: torch.ScalarType.Float32, generator: generator).to(x.dtype, x.device);

    /// <summary>The SDE drift from one velocity evaluation.</summary>
    private torch.Tensor Drift(SolverRun run, torch.Tensor x, double t)
    {
        var v = run.Velocity(x, t);
        var w = Diffusion(t);
        if (w == 0) return v;
        // score = (t·v − x) / ((1−t)² + t(1−t)) for α = t, σ = 1 − t.
        var variance = (1 - t) * (1 - t) + t * (1 - t);
        return v + (v * t - x) * (w / variance);
    }

    private torch.Tensor EulerMaruyamaStep(SolverRun run, torch.Tensor x, double t, double dt, torch.Tensor dw)
    {
        var mean = x + Drift(run, x, t) * dt;
        return mean + dw * Math.Sqrt(2 * Diffusion(t));
    }

    private torch.Tensor HeunStep(SolverRun run, torch.Tensor x, double t, double dt, torch.Tensor dw)
    {
        var xHat = x + dw * Math.Sqrt(2 * Diffusion(t));
        var k1 = Drift(run, xHat, t);
        var xp = xHat + k1 * dt;
        var k2 = Drift(run, xp, run.Round(t + dt));
        return xHat + (k1 + k2) * (0.5 * dt);
    }

    private torch.Tensor LastStep(SolverRun run, torch.Tensor x, double t1)
    {
        var t = run.Round(t1);
        switch (Options.LastStep)
        {
            case SdeLastStep.Mean:
                return x + Drift(run, x, t) * Options.LastStepSize;
            case SdeLastStep.Euler:
                return x + run.Velocity(x, t) * Options.LastStepSize;
            case SdeLastStep.Tweedie:
            {
                var v = run.Velocity(x, t);
                var variance = (1 - t) * (1 - t) + t * (1 - t);
                var score = (v * t - x) / variance;
                return x / t + score * ((1 - t) * (1 - t) / t);
            }
            default:
                return x.clone();
        }
    }
}
