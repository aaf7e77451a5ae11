using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// Multistep DPM-Solver++ (Lu et al. 2022) for flow-matching models, as Lumina-Image 2.0's <c>transport/dpm_solver.py</c>
/// runs it (<c>algorithm_type="dpmsolver++"</c>, <c>method="multistep"</c>, <c>solver_type="dpmsolver"</c>,
/// <c>lower_order_final=True</c>; upstream's <c>--solver dpm</c>).
/// </summary>
/// <remarks>
/// <para>In the noise level σ = 1 − t (t = 0 noise, t = 1 data) the flow path is x = (1 − σ)·x₁ + σ·x₀, i.e. α = 1 − σ,
/// and the data prediction of a velocity v is <c>x̂₁ = x + σ·v(x, 1 − σ)</c>. With λ = log(α/σ) and h = λₜ − λₛ, the
/// first-order update is <c>xₜ = (σₜ/σₛ)·x − αₜ·expm1(−h)·x̂₁(s)</c>; the second-order update adds the difference of the
/// last two data predictions, <c>−½·αₜ·expm1(−h)·(h/h₀)·(x̂₁(s) − x̂₁(s₋₁))</c>. The first step and the last step are
/// first order. The velocity is evaluated once per step at the step's start time and never at the final time, so
/// N grid intervals cost N model calls; a grid that ends at t = 1 (σ = 0, λ = +∞) returns the last data prediction.</para>
/// <para>Use it with its own grid, <see cref="Schedulers.TimeGrid.DpmSolverFlow"/> (upstream's
/// <c>skip_type="time_uniform_flow"</c> with <c>flow_shift</c>); it accepts any strictly increasing grid in [0, 1].</para>
/// </remarks>
internal sealed class DpmSolverPlusPlus : OdeSolver
{
    /// <summary>Creates the solver.</summary>
    /// <param name="order">1 (DPM-Solver++-1, i.e. DDIM) or 2 (the default, upstream's <c>order=2</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The order is not 1 or 2.</exception>
    public DpmSolverPlusPlus(int order = 2)
    {
        if (order is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(order), order, "DPM-Solver++ supports order 1 or 2 here (upstream Lumina-Image 2.0 samples with order 2).");
        Order = order;
    }

    /// <summary>The multistep order (1 or 2).</summary>
    public int Order { get; }

    /// <summary>Upstream's solver name, <c>dpm</c>.</summary>
    public override string Name => "dpm";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The grid is not strictly increasing inside [0, 1].</exception>
    public override OdeSolution Solve(VelocityFunction velocity, torch.Tensor x0, IReadOnlyList<double> times,
        SolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(times);
        for (var i = 0; i < times.Count; i++)
        {
            if (!(times[i] >= 0 && times[i] <= 1))
                throw new ArgumentException($"DPM-Solver++ works on flow times in [0, 1]; grid entry {i} is {times[i]}.", nameof(times));
            if (i > 0 && !(times[i] > times[i - 1]))
                throw new ArgumentException($"DPM-Solver++ needs a strictly increasing grid (noise → data); entries {i - 1} and {i} are {times[i - 1]} and {times[i]}.", nameof(times));
        }
        using var run = new SolverRun(velocity, x0, times, options, cancellationToken);
        torch.Tensor? previous = null;  // data prediction at the start of the previous step
        torch.Tensor? current = null;   // data prediction at the start of this step
        try
        {
            return run.StepThroughGrid(x0, (i, y) =>
            {
                var sigmaS = Sigma(run, times[i - 1]);
                var sigmaT = Sigma(run, times[i]);
                current = DataPrediction(run, y, times[i - 1], sigmaS).MoveToOuterDisposeScope();
                var lambdaS = Lambda(sigmaS);
                var lambdaT = Lambda(sigmaT);
                var h = lambdaT - lambdaS;
                var alphaPhi = run.Round((1 - sigmaT) * ExpM1(-h));
                var ratio = run.Round(sigmaT / sigmaS);
                var secondOrder = Order == 2 && previous is not null && i < times.Count - 1;
                var update = y * ratio - current * alphaPhi;
                if (secondOrder)
                {
                    var h0 = lambdaS - Lambda(Sigma(run, times[i - 2]));
                    var inverseR0 = run.Round(h / h0);
                    update -= (current - previous!) * inverseR0 * run.Round(0.5 * alphaPhi);
                }
                previous?.Dispose();
                previous = current;
                current = null;
                return update;
            });
        }
        finally
        {
            previous?.Dispose();
            current?.Dispose();
        }
    }

    /// <summary>σ = 1 − t in the state's time precision.</summary>
    private static double Sigma(SolverRun run, double t) => run.Round(1 - run.Round(t));

    /// <summary>λ = log(α) − log(σ) with α = 1 − σ; +∞ at σ = 0, −∞ at σ = 1.</summary>
    private static double Lambda(double sigma) => Math.Log(1 - sigma) - Math.Log(sigma);

    /// <summary>expm1 for a double, exact near 0 (where e^x − 1 would cancel) and −1 at −∞.</summary>
    private static double ExpM1(double x) => Math.Abs(x) < 1e-5 ? x + 0.5 * x * x + x * x * x / 6 : Math.Exp(x) - 1;

    /// <summary>x̂₁ = x + σ·v(x, t): the flow model's prediction of the data.</summary>
    private static torch.Tensor DataPrediction(SolverRun run, torch.Tensor x, double t, double sigma)
    {
        using var v = run.Velocity(x, run.Round(t));
        return x + v * sigma;
    }
}
