using TorchSharp;

namespace Lumina.Solvers;

/// <summary>
/// The bookkeeping of one solve: counts velocity calls, checks cancellation before each call, validates the
/// returned shape, collects the trajectory and drives the callback and progress. Solvers share it so each
/// solver holds only its update rule.
/// </summary>
internal sealed class SolverRun : IDisposable
{
    private readonly VelocityFunction _velocity;
    private readonly SolveOptions _options;
    private readonly CancellationToken _cancellationToken;
    private readonly List<torch.Tensor> _trajectory = new();
    private readonly long[] _shape;

    public SolverRun(VelocityFunction velocity, torch.Tensor x0, IReadOnlyList<double> times, SolveOptions? options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(velocity);
        ArgumentNullException.ThrowIfNull(x0);
        ArgumentNullException.ThrowIfNull(times);
        if (times.Count < 1)
            throw new ArgumentException("The time grid is empty; give at least the start time (two times for one step).", nameof(times));
        for (var i = 0; i < times.Count; i++)
        {
            if (!double.IsFinite(times[i]))
                throw new ArgumentException($"Time grid entry {i} is {times[i]}; every time must be finite.", nameof(times));
        }
        if (times.Count > 1)
        {
            var increasing = times[1] > times[0];
            for (var i = 1; i < times.Count; i++)
            {
                if (increasing ? times[i] <= times[i - 1] : times[i] >= times[i - 1])
                    throw new ArgumentException(
                        $"The time grid must be strictly increasing or strictly decreasing; entries {i - 1} and {i} are {times[i - 1]} and {times[i]}.",
                        nameof(times));
            }
        }
        if (!x0.is_floating_point())
            throw new ArgumentException($"The initial state must be a floating-point tensor, not {x0.dtype}.", nameof(x0));

        _velocity = velocity;
        _options = options ?? new SolveOptions();
        _cancellationToken = cancellationToken;
        _shape = x0.shape;
        Times = times;
        TimeIsDouble = x0.dtype == torch.ScalarType.Float64;
        if (_options.KeepTrajectory) _trajectory.Add(SolverRun.Copy(x0));
    }

    public IReadOnlyList<double> Times { get; }

    /// <summary>Time arithmetic precision follows the state: double for float64 states, single otherwise
    /// (torch's default dtype, which is what the upstream float32 time grid uses).</summary>
    public bool TimeIsDouble { get; }

    public int FunctionEvaluations { get; private set; }

    public int CompletedSteps { get; private set; }

    public bool StoppedEarly { get; private set; }

    public int TotalSteps => Times.Count - 1;

    /// <summary>A detached copy of <paramref name="x"/> (the detached alias itself is released at once).</summary>
    public static torch.Tensor Copy(torch.Tensor x)
    {
        using var detached = x.detach();
        return detached.clone();
    }

    /// <summary>Rounds a time value to the state's time precision.</summary>
    public double Round(double t) => TimeIsDouble ? t : (float)t;

    /// <summary>Calls the velocity function once: checks cancellation first, counts the call, validates the shape.</summary>
    public torch.Tensor Velocity(torch.Tensor x, double t)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        FunctionEvaluations++;
        var v = _velocity(x, t) ?? throw new InvalidOperationException("The velocity function returned null; it must return a tensor shaped like x.");
        // The solver disposes what the velocity returns; a function that hands back its input gets a copy.
        if (ReferenceEquals(v, x)) v = Copy(x);
        if (!v.shape.SequenceEqual(_shape))
        {
            var got = $"[{string.Join(", ", v.shape)}]";
            v.Dispose();
            throw new InvalidOperationException(
                $"The velocity function returned shape {got} for a state of shape [{string.Join(", ", _shape)}]; it must return the state's shape.");
        }
        return v;
    }

    /// <summary>Checks cancellation between steps.</summary>
    public void ThrowIfCancelled() => _cancellationToken.ThrowIfCancellationRequested();

    /// <summary>Records that grid point <paramref name="index"/> (≥ 1) has been reached with state <paramref name="y"/>.
    /// A <see cref="SolveOptions.StepCallback"/> may replace the state: <paramref name="y"/> then becomes a copy of
    /// the replacement (the old state is disposed). Returns false when the callback asked to stop.</summary>
    /// <param name="index">The grid point reached.</param>
    /// <param name="y">The state; replaced when the step-end callback returns new latents.</param>
    /// <param name="replaceable">False for solvers whose state at a grid point is an interpolation (dopri5).</param>
    /// <param name="solver">The solver's name, for the error when the state is not replaceable.</param>
    public bool Reached(int index, ref torch.Tensor y, bool replaceable = true, string solver = "")
    {
        CompletedSteps = index;
        var step = _options.StepCallback is null ? null : new SamplingStep(index - 1, TotalSteps, Times[index], y, FunctionEvaluations);
        if (step is not null && _options.StepCallback!(step) is { } replacement)
        {
            if (!replaceable)
                throw new NotSupportedException(
                    $"The {solver} solver cannot continue from replaced latents (its grid-point state is interpolated); use a fixed-grid or multistep solver, or return null from the step callback.");
            if (!replacement.shape.SequenceEqual(_shape))
                throw new InvalidOperationException(
                    $"The step callback returned latents of shape [{string.Join(", ", replacement.shape)}] for a state of shape [{string.Join(", ", _shape)}]; return the state's shape or null.");
            var copy = Copy(replacement).to(y.dtype, y.device);
            y.Dispose();
            y = copy;
        }
        if (_options.KeepTrajectory) _trajectory.Add(SolverRun.Copy(y));
        _options.Progress?.Report(new SamplingProgress(index, TotalSteps, Times[index], FunctionEvaluations));
        if (step is { StopRequested: true })
        {
            StoppedEarly = index < TotalSteps;
            return false;
        }
        return true;
    }

    /// <summary>
    /// The loop of every solver that takes one step per grid interval (the fixed-grid methods and the multistep
    /// DPM-Solver++): for each grid point i ≥ 1, checks cancellation, computes the state at point i from the state at
    /// i − 1 inside its own dispose scope (so a run holds the same native memory whatever its number of steps), then
    /// reports it through <see cref="Reached"/>. The initial state is copied, never modified.
    /// </summary>
    /// <param name="x0">The initial state.</param>
    /// <param name="next">Grid index i and the state at i − 1 → the state at i (a new tensor; temporaries need no disposal).</param>
    public OdeSolution StepThroughGrid(torch.Tensor x0, Func<int, torch.Tensor, torch.Tensor> next)
    {
        var y = Copy(x0);
        try
        {
            for (var i = 1; i < Times.Count; i++)
            {
                ThrowIfCancelled();
                torch.Tensor stepped;
                using (var scope = torch.NewDisposeScope())
                {
                    stepped = next(i, y).MoveToOuterDisposeScope();
                }
                y.Dispose();
                y = stepped;
                if (!Reached(i, ref y)) break;
            }
            return Finish(y, CompletedSteps, 0);
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    /// <summary>Builds the solution; <paramref name="final"/> becomes owned by it.</summary>
    public OdeSolution Finish(torch.Tensor final, int accepted, int rejected)
    {
        torch.Tensor? trajectory = null;
        if (_options.KeepTrajectory)
        {
            trajectory = torch.stack(_trajectory, 0);
            foreach (var t in _trajectory) t.Dispose();
            _trajectory.Clear();
        }
        return new OdeSolution(final, trajectory, Times, CompletedSteps, StoppedEarly, FunctionEvaluations, accepted, rejected);
    }

    /// <summary>Releases the collected trajectory when a run fails or is cancelled.</summary>
    public void Dispose()
    {
        foreach (var t in _trajectory) t.Dispose();
        _trajectory.Clear();
    }
}
