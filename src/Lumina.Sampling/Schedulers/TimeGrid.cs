namespace Lumina.Schedulers;

/// <summary>
/// Time grids for flow-matching sampling, t = 0 noise → t = 1 data, as upstream Lumina builds them:
/// <c>linspace(0, 1, N)</c>, the time shift <c>t / (t + s − s·t)</c>, and the img2img start.
/// Values are computed in single precision (torch's default dtype, which the upstream grid uses) and returned
/// as doubles holding those single-precision values.
/// </summary>
public static class TimeGrid
{
    /// <summary>
    /// The sampling grid: <paramref name="points"/> times from 0 to 1 (N points give N−1 steps), shifted by
    /// <paramref name="shift"/> when given, then cut to its img2img start when <paramref name="strength"/> &lt; 1.
    /// </summary>
    /// <param name="points">Grid points, at least 2.</param>
    /// <param name="shift">Upstream <c>time_shifting_factor</c>; <see langword="null"/> (or 1) for none.</param>
    /// <param name="strength">img2img strength in (0, 1]; 1 keeps the whole grid.</param>
    public static double[] Create(int points, double? shift = null, double strength = 1.0)
    {
        var grid = Linspace(0, 1, points);
        if (shift is { } s) grid = Shift(grid, s);
        return strength == 1.0 ? grid : grid[Img2ImgStartIndex(points, strength)..];
    }

    /// <summary>
    /// The grid a solver samples on. <see cref="TimeSchedule.Upstream"/>: <see cref="DpmSolverFlow"/> for
    /// <see cref="Solvers.OdeMethod.DpmSolver"/>, otherwise <see cref="Create"/> (<c>linspace(0, 1, steps + 1)</c> with the
    /// time shift), as upstream chooses them. <see cref="TimeSchedule.DiffusersFlowMatch"/>: the σ grid diffusers'
    /// <c>Lumina2Pipeline</c> sets on its <see cref="FlowMatchEulerDiscreteScheduler"/> (<c>sigmas = linspace(1, 1/N, N)</c>,
    /// shifted by this static shift, then 0), as flow times t = 1 − σ. Cut to its img2img
    /// start when <paramref name="strength"/> &lt; 1.
    /// </summary>
    /// <param name="method">The solver.</param>
    /// <param name="steps">Solver steps (grid intervals), at least 1.</param>
    /// <param name="shift">The time shift; <see langword="null"/> (or 1) for none.</param>
    /// <param name="strength">img2img strength in (0, 1]; 1 keeps the whole grid.</param>
    /// <param name="schedule">Whose grid arithmetic to follow.</param>
    public static double[] ForSolver(Solvers.OdeMethod method, int steps, double? shift = null, double strength = 1.0,
        TimeSchedule schedule = TimeSchedule.Upstream)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "A run needs at least one step.");
        double[] grid;
        if (schedule == TimeSchedule.DiffusersFlowMatch)
        {
            // Lumina2Pipeline hands the scheduler sigmas = linspace(1, 1/N, N) (float64); the scheduler shifts them.
            var scheduler = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { Shift = shift ?? 1.0 });
            scheduler.SetTimesteps(Enumerable.Range(0, steps).Select(i => 1.0 + (1.0 / steps - 1.0) * i / Math.Max(1, steps - 1)).ToArray());
            // The transformer sees 1 − timestep/1000 (float32), then the terminal σ = 0 is t = 1.
            var n = (float)scheduler.Config.NumTrainTimesteps;
            grid = scheduler.Timesteps.Select(ts => (double)(1f - ts / n)).Append(1.0).ToArray();
        }
        else if (schedule == TimeSchedule.Upstream)
        {
            if (method != Solvers.OdeMethod.DpmSolver) return Create(steps + 1, shift is 1.0 ? null : shift, strength);
            grid = DpmSolverFlow(steps, shift ?? 1.0);
        }
        else
        {
            throw new ArgumentOutOfRangeException(nameof(schedule), schedule, "Unknown time schedule; use Upstream or DiffusersFlowMatch.");
        }
        return strength == 1.0 ? grid : grid[Img2ImgStartIndex(grid.Length, strength)..];
    }

    /// <summary>
    /// The grid of DPM-Solver++ as Lumina-Image 2.0 samples with it (<c>DPM_Solver.get_time_steps</c> with
    /// <c>skip_type="time_uniform_flow"</c>): <c>betas = linspace(1, 1/1000, steps + 1)</c>, σ = 1 − betas, shifted by
    /// <c>s·σ / (1 + (s − 1)·σ)</c> and reversed, so σ runs from shift(0.999) down to exactly 0. Returned as flow times
    /// t = 1 − σ (increasing, ending at exactly 1), in single precision as upstream computes them, for
    /// <see cref="Solvers.DpmSolverPlusPlus"/>. Unlike <see cref="Create"/> the grid never starts at pure noise.
    /// </summary>
    /// <param name="steps">Solver steps (model calls), at least 1.</param>
    /// <param name="shift">Upstream's <c>flow_shift</c> (= <c>time_shifting_factor</c>, 6 for Lumina-Image 2.0); 1 for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">Steps below 1, or a shift that is not positive and finite.</exception>
    public static double[] DpmSolverFlow(int steps, double shift = 1.0)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "DPM-Solver++ needs at least one step.");
        if (!(shift > 0) || !double.IsFinite(shift))
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "The flow shift must be positive and finite (Lumina-Image 2.0 uses 6).");
        var betas = Linspace(1, 1.0 / 1000, steps + 1);
        var s = (float)shift;
        var times = new double[steps + 1];
        for (var i = 0; i <= steps; i++)
        {
            var sigma = 1f - (float)betas[i];
            var shifted = s * sigma / (1f + (s - 1f) * sigma);
            times[steps - i] = 1f - shifted;
        }
        return times;
    }

    /// <summary>
    /// <paramref name="points"/> evenly spaced values from <paramref name="start"/> to <paramref name="end"/>,
    /// with torch's float32 <c>linspace</c> arithmetic (the first half counted from the start, the second half
    /// from the end).
    /// </summary>
    /// <param name="start">First value.</param>
    /// <param name="end">Last value.</param>
    /// <param name="points">How many values, at least 2.</param>
    public static double[] Linspace(double start, double end, int points)
    {
        if (points < 2)
            throw new ArgumentOutOfRangeException(nameof(points), points, "A time grid needs at least 2 points (N points give N−1 steps).");
        if (!double.IsFinite(start) || !double.IsFinite(end))
            throw new ArgumentException($"Grid ends must be finite, got {start} and {end}.");
        var s = (float)start;
        var e = (float)end;
        var step = (e - s) / (points - 1);
        var halfway = points / 2;
        var grid = new double[points];
        for (var i = 0; i < points; i++)
            grid[i] = i < halfway ? s + step * i : e - step * (points - i - 1);
        return grid;
    }

    /// <summary>Applies upstream's time shift <c>t' = t / (t + s − s·t)</c> (in σ = 1 − t this is the SD3
    /// shift <c>sσ / (1 + (s−1)σ)</c>). Larger s spends more steps near the noise end.</summary>
    /// <param name="times">Flow times in [0, 1].</param>
    /// <param name="shift">The shift s &gt; 0.</param>
    public static double[] Shift(IReadOnlyList<double> times, double shift)
    {
        ArgumentNullException.ThrowIfNull(times);
        if (!(shift > 0) || !double.IsFinite(shift))
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "The time shift must be positive and finite (upstream uses 4 for Lumina-Next).");
        var s = (float)shift;
        var result = new double[times.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var t = (float)times[i];
            result[i] = t / (t + s - s * t);
        }
        return result;
    }

    /// <summary>
    /// The first grid index an img2img run starts at, as upstream computes it:
    /// <c>int(points · (1 − strength))</c>. The start latent is <c>noise·(1−t₀) + image·t₀</c> at that time.
    /// </summary>
    /// <param name="points">Grid points.</param>
    /// <param name="strength">In (0, 1]; 1 starts from pure noise.</param>
    public static int Img2ImgStartIndex(int points, double strength)
    {
        if (!(strength > 0 && strength <= 1))
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "img2img strength must be in (0, 1]; 1 ignores the input image.");
        var start = (int)(points * (1 - strength));
        if (start > points - 2)
            throw new ArgumentOutOfRangeException(nameof(strength), strength,
                $"With {points} grid points, strength {strength} leaves no step to take; raise the strength or the step count.");
        return start;
    }

    /// <summary>
    /// Resolution-dependent shift μ of SD3 / diffusers (<c>calculate_shift</c>): linear in the image token
    /// count between (<paramref name="baseSeqLen"/>, <paramref name="baseShift"/>) and
    /// (<paramref name="maxSeqLen"/>, <paramref name="maxShift"/>). The static shift it amounts to is e^μ.
    /// </summary>
    /// <param name="imageSeqLen">Image tokens: (H/8/patch)·(W/8/patch).</param>
    /// <param name="baseSeqLen">diffusers default 256.</param>
    /// <param name="maxSeqLen">diffusers default 4096.</param>
    /// <param name="baseShift">diffusers default 0.5.</param>
    /// <param name="maxShift">diffusers default 1.15.</param>
    public static double DynamicShiftMu(int imageSeqLen, int baseSeqLen = 256, int maxSeqLen = 4096,
        double baseShift = 0.5, double maxShift = 1.15)
    {
        if (imageSeqLen <= 0) throw new ArgumentOutOfRangeException(nameof(imageSeqLen), imageSeqLen, "The image token count must be positive.");
        if (maxSeqLen == baseSeqLen) throw new ArgumentException("maxSeqLen and baseSeqLen must differ.");
        var m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
        var b = baseShift - m * baseSeqLen;
        return imageSeqLen * m + b;
    }

    /// <summary>
    /// Applies the SD3 / diffusers resolution-dependent (exponential) shift to flow times:
    /// σ' = e^μ / (e^μ + (1/σ − 1)^<paramref name="sigma"/>) with σ = 1 − t, computed in double precision as
    /// diffusers does. With <paramref name="sigma"/> = 1 this equals <see cref="Shift"/> with s = e^μ.
    /// </summary>
    /// <param name="times">Flow times in [0, 1].</param>
    /// <param name="mu">From <see cref="DynamicShiftMu"/>.</param>
    /// <param name="sigma">The exponent (diffusers passes 1).</param>
    public static double[] DynamicShift(IReadOnlyList<double> times, double mu, double sigma = 1.0)
    {
        ArgumentNullException.ThrowIfNull(times);
        var em = Math.Exp(mu);
        return times.Select(t =>
        {
            var s = 1 - t;
            if (s <= 0) return 1.0;
            return 1 - em / (em + Math.Pow(1 / s - 1, sigma));
        }).ToArray();
    }

    /// <summary>Converts diffusers sigmas (1 = noise → 0 = data) to flow times t = 1 − σ.</summary>
    /// <param name="sigmas">Sigmas, typically ending in 0.</param>
    public static double[] FromSigmas(IReadOnlyList<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        return sigmas.Select(s => (double)(1f - s)).ToArray();
    }
}
