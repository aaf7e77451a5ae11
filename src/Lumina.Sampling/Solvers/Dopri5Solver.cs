using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// Adaptive Dormand–Prince 5(4) with torchdiffeq's step-size controller: Hairer's initial step selection,
/// an RMS error ratio against <c>atol + rtol·max(|y₀|, |y₁|)</c>, the optimal step factor
/// <c>min(ifactor, max(safety / ratio^(1/5), dfactor))</c> (no shrinking after an accepted step), and the
/// 4th-order dense output to reach each grid time. The number of velocity calls is
/// 2 + 6 × (accepted + rejected steps).
/// </summary>
/// <remarks>
/// Times and step sizes are kept in double precision; the stage times handed to the velocity are rounded to
/// the state's precision (single for anything but float64), and stages at the end of a step are evaluated
/// just before it, like torchdiffeq. The error ratio is computed in double precision, as torchdiffeq does
/// when the tolerances are given as lists (the upstream Lumina call).
/// </remarks>
internal sealed class Dopri5Solver : OdeSolver
{
    private static readonly double[] Alpha = { 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0 };

    private static readonly double[][] Beta =
    {
        new[] { 1.0 / 5 },
        new[] { 3.0 / 40, 9.0 / 40 },
        new[] { 44.0 / 45, -56.0 / 15, 32.0 / 9 },
        new[] { 19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729 },
        new[] { 9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656 },
        new[] { 35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84 },
    };

    // 5th-order weights minus the embedded 4th-order ones; the last entry multiplies the FSAL stage.
    private static readonly double[] ErrorWeights =
    {
        35.0 / 384 - 1951.0 / 21600, 0, 500.0 / 1113 - 22642.0 / 50085, 125.0 / 192 - 451.0 / 720,
        -2187.0 / 6784 - -12231.0 / 42400, 11.0 / 84 - 649.0 / 6300, -1.0 / 60,
    };

    // Shampine's weights for the state at the middle of a step (dense output).
    private static readonly double[] MidWeights =
    {
        6025192743.0 / 30085553152 / 2, 0, 51252292925.0 / 65400821598 / 2, -2691868925.0 / 45128329728 / 2,
        187940372067.0 / 1594534317056 / 2, -1776094331.0 / 19743644256 / 2, 11237099.0 / 235043384 / 2,
    };

    private const int Order = 5;

    /// <summary>Creates the solver.</summary>
    /// <param name="options">Tolerances and controller settings; <see langword="null"/> for the defaults.</param>
    public Dopri5Solver(AdaptiveStepOptions? options = null)
    {
        Options = options ?? new AdaptiveStepOptions();
        Options.Validate();
    }

    /// <summary>The tolerances and controller settings.</summary>
    public AdaptiveStepOptions Options { get; }

    /// <inheritdoc />
    public override string Name => "dopri5";

    /// <inheritdoc />
    public override OdeSolution Solve(VelocityFunction velocity, torch.Tensor x0, IReadOnlyList<double> times,
        SolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var run = new SolverRun(velocity, x0, times, options, cancellationToken);
        var integrator = new Integrator(this, run, times, x0);
        try
        {
            return integrator.Run();
        }
        finally
        {
            integrator.DisposeState();
        }
    }

    /// <summary>One solve's mutable state (torchdiffeq's _RungeKuttaState plus counters).</summary>
    private sealed class Integrator
    {
        private readonly Dopri5Solver _solver;
        private readonly SolverRun _run;
        private readonly double[] _s;      // internal times, increasing (negated when the grid decreases)
        private readonly double _sign;
        private readonly torch.Tensor _x0;
        private readonly bool _double;

        private torch.Tensor? _y;          // state at _t1
        private torch.Tensor? _f;          // velocity at _t1
        private torch.Tensor[]? _interp;   // dense-output coefficients over [_t0, _t1]: e, d, c, b, a
        private double _t0, _t1, _dt;
        private int _accepted, _rejected;

        public Integrator(Dopri5Solver solver, SolverRun run, IReadOnlyList<double> times, torch.Tensor x0)
        {
            _solver = solver;
            _run = run;
            _sign = times.Count > 1 && times[1] < times[0] ? -1.0 : 1.0;
            _s = times.Select(t => _sign * t).ToArray();
            _x0 = x0;
            _double = x0.dtype == torch.ScalarType.Float64;
        }

        private AdaptiveStepOptions O => _solver.Options;

        /// <summary>Rounds to the state's precision (what torchdiffeq's casts do).</summary>
        private double R(double v) => _double ? v : (float)v;

        private torch.Tensor F(double s, torch.Tensor y, bool justBefore = false)
        {
            var sr = R(s);
            if (justBefore) sr = _double ? Math.BitDecrement(sr) : MathF.BitDecrement((float)sr);
            var v = _run.Velocity(y, _sign * sr);
            if (_sign > 0) return v;
            using (v) return -v;
        }

        public OdeSolution Run()
        {
            using (var scope = torch.NewDisposeScope())
            {
                var y0 = SolverRun.Copy(_x0);
                var f0 = F(_s[0], y0);
                _dt = O.FirstStep ?? SelectInitialStep(y0, f0);
                _y = y0.MoveToOuterDisposeScope();
                _f = f0.MoveToOuterDisposeScope();
            }
            _t0 = _t1 = _s[0];

            torch.Tensor current = SolverRun.Copy(_x0);
            try
            {
                for (var i = 1; i < _s.Length; i++)
                {
                    _run.ThrowIfCancelled();
                    var steps = 0;
                    while (_s[i] > _t1)
                    {
                        if (steps >= O.MaxStepsPerInterval)
                            throw new InvalidOperationException(
                                $"Dopri5 took {steps} steps between grid times {_sign * _s[i - 1]} and {_sign * _s[i]} without reaching the second; "
                                + "loosen the tolerances or raise MaxStepsPerInterval.");
                        AdaptiveStep();
                        steps++;
                    }
                    var next = Interpolate(_s[i]);
                    current.Dispose();
                    current = next;
                    if (!_run.Reached(i, ref current, replaceable: false, solver: "dopri5")) break;
                }
                return _run.Finish(current, _accepted, _rejected);
            }
            catch
            {
                current.Dispose();
                throw;
            }
        }

        private static double Rms(torch.Tensor x)
        {
            using var scope = torch.NewDisposeScope();
            return x.to_type(torch.ScalarType.Float64).square().mean().sqrt().item<double>();
        }

        private double SelectInitialStep(torch.Tensor y0, torch.Tensor f0)
        {
            var y0d = y0.to_type(torch.ScalarType.Float64);
            var scale = y0d.abs() * O.RelativeTolerance + O.AbsoluteTolerance;
            var d0 = Rms(y0d / scale);
            var d1 = Rms(f0.to_type(torch.ScalarType.Float64) / scale);
            // torchdiffeq's fallback h0 is a tensor in the state's dtype, so what follows from it is computed
            // in that precision; the other branch is double (the norms are double with list tolerances).
            var fallback = d0 < 1e-5 || d1 < 1e-5;
            var h0 = fallback ? R(1e-6) : 0.01 * d0 / d1;
            var y1 = y0 + f0 * R(h0);
            var f1 = F(_s[0] + h0, y1);
            var d2 = Math.Abs(Rms((f1 - f0).to_type(torch.ScalarType.Float64) / scale) / h0);
            var hundredH0 = fallback ? R(100 * h0) : 100 * h0;
            double h1;
            if (d1 <= 1e-15 && d2 <= 1e-15)
                h1 = fallback ? Math.Max(R(1e-6), R(h0 * 1e-3)) : Math.Max(1e-6, h0 * 1e-3);
            else
                h1 = Math.Pow(0.01 / Math.Max(d1, d2), 1.0 / Order);
            return Math.Min(hundredH0, h1);
        }

        /// <summary>
        /// <c>y0 + Σⱼ k[j]·(weight[j]·dt)</c>, summing the terms in the order torch's CPU sum kernel reduces a
        /// short last dimension (four partial sums: term 0, then terms 4…, then terms 1, 2, 3). The error
        /// estimate of a nearly exact step is at rounding level, so this order decides step sizes.
        /// </summary>
        private static torch.Tensor WeightedSum(torch.Tensor y0, IReadOnlyList<torch.Tensor> k, IReadOnlyList<double> weights, Func<double, double> r, double dt)
        {
            var n = weights.Count;
            var order = n < 4
                ? Enumerable.Range(0, n)
                : new[] { 0 }.Concat(Enumerable.Range(4, n - 4)).Concat(new[] { 1, 2, 3 });
            torch.Tensor? acc = null;
            foreach (var j in order)
            {
                var w = r(r(weights[j]) * dt);
                if (w == 0) continue;   // an exact zero term changes nothing
                var term = k[j] * w;
                acc = acc is null ? term : acc + term;
            }
            return acc is null ? y0.clone() : y0 + acc;
        }

        private void AdaptiveStep()
        {
            var dt = _dt;
            if (!double.IsFinite(dt)) dt = O.MinStep;
            dt = Math.Clamp(dt, O.MinStep, O.MaxStep);
            var t0 = _t1;
            var t1 = t0 + dt;
            if (!(t1 > t0))
                throw new InvalidOperationException($"Dopri5 step size underflowed at t = {_sign * t0} (dt = {dt}); the problem may be stiff or the velocity not finite.");

            using var scope = torch.NewDisposeScope();
            var y0 = _y!;
            var f0 = _f!;
            if (!torch.isfinite(y0).all().item<bool>())
                throw new InvalidOperationException($"Dopri5 met a non-finite state at t = {_sign * t0}; check the velocity function.");

            var ts0 = R(t0);
            var dts = R(dt);
            var ts1 = R(t1);
            var k = new List<torch.Tensor>(7) { f0 };
            torch.Tensor yi = y0;
            for (var i = 0; i < Alpha.Length; i++)
            {
                yi = WeightedSum(y0, k, Beta[i], R, dts);
                var last = Alpha[i] == 1.0;
                var ti = last ? ts1 : R(ts0 + R(R(Alpha[i]) * dts));
                k.Add(F(ti, yi, justBefore: last));
            }
            var y1 = yi;            // the 5th-order solution is the last stage's input (FSAL)
            var f1 = k[^1];
            var error = WeightedSum(torch.zeros_like(y0), k, ErrorWeights, R, dts);

            double ratio;
            using (var inner = torch.NewDisposeScope())
            {
                var tol = torch.maximum(y0.abs(), y1.abs()).to_type(torch.ScalarType.Float64) * O.RelativeTolerance + O.AbsoluteTolerance;
                ratio = Rms(error.to_type(torch.ScalarType.Float64) / tol);
            }

            var accept = ratio <= 1;
            if (dt > O.MaxStep) accept = false;
            if (dt <= O.MinStep) accept = true;

            if (accept)
            {
                var yMid = WeightedSum(y0, k, MidWeights, R, dts);
                var interp = FitInterpolation(y0, y1, yMid, f0, f1, dts);
                // y0 lives on as the new polynomial's constant term; the old f and coefficients go.
                _f!.Dispose();
                if (_interp is not null)
                    foreach (var c in _interp) c.Dispose();
                _y = y1.MoveToOuterDisposeScope();
                _f = f1.MoveToOuterDisposeScope();
                _interp = interp;
                foreach (var c in interp) c.MoveToOuterDisposeScope();
                _t0 = t0;
                _t1 = t1;
                _accepted++;
            }
            else
            {
                _t0 = t0;
                _rejected++;
            }

            _dt = Math.Clamp(OptimalStepSize(dt, ratio), O.MinStep, O.MaxStep);
        }

        private double OptimalStepSize(double lastStep, double ratio)
        {
            if (ratio == 0) return lastStep * O.IncreaseFactor;
            var dfactor = ratio < 1 ? 1.0 : O.DecreaseFactor;
            var factor = Math.Min(O.IncreaseFactor, Math.Max(O.Safety / Math.Pow(ratio, 1.0 / Order), dfactor));
            return lastStep * factor;
        }

        private torch.Tensor[] FitInterpolation(torch.Tensor y0, torch.Tensor y1, torch.Tensor yMid, torch.Tensor f0, torch.Tensor f1, double dt)
        {
            var a = (f1 - f0) * R(2 * dt) - (y1 + y0) * 8.0 + yMid * 16.0;
            var b = (f0 * 5.0 - f1 * 3.0) * dt + y0 * 18.0 + y1 * 14.0 - yMid * 32.0;
            var c = (f1 - f0 * 4.0) * dt - y0 * 11.0 - y1 * 5.0 + yMid * 16.0;
            var d = f0 * dt;
            return new[] { y0, d, c, b, a };
        }

        private torch.Tensor Interpolate(double s)
        {
            using var scope = torch.NewDisposeScope();
            var x = R((s - _t0) / (_t1 - _t0));
            var total = _interp![0] + _interp[1] * x;
            var power = x;
            for (var j = 2; j < _interp.Length; j++)
            {
                power = R(power * x);
                total = total + _interp[j] * power;
            }
            return total.MoveToOuterDisposeScope();
        }

        public void DisposeState()
        {
            _f?.Dispose();
            if (_interp is not null)
            {
                foreach (var c in _interp)
                    if (!ReferenceEquals(c, _y)) c.Dispose();
            }
            _y?.Dispose();
            _f = null;
            _y = null;
            _interp = null;
        }
    }
}
