using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Sampling.Tests;

/// <summary>Callbacks, progress, cancellation and native memory across runs.</summary>
public class RunControlTests
{
    private sealed class SyncProgress : IProgress<SamplingProgress>
    {
        public List<SamplingProgress> Reports { get; } = new();
        public void Report(SamplingProgress value) => Reports.Add(value);
    }

    private static long Live => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>A model-sized velocity that allocates temporaries, and records the live tensor count per call.</summary>
    private static VelocityFunction Model(List<long> liveAtCall, Action<int>? onCall = null) => (x, t) =>
    {
        liveAtCall.Add(Live);
        onCall?.Invoke(liveAtCall.Count);
        var h = torch.nn.functional.silu(x * 0.5 + t);
        var g = h.sum(1, keepdim: true);
        return h - g * 0.1 - x;
    };

    [Theory]
    [InlineData(OdeMethod.Euler)]
    [InlineData(OdeMethod.Midpoint)]
    [InlineData(OdeMethod.Rk4)]
    [InlineData(OdeMethod.Dopri5)]
    [InlineData(OdeMethod.DpmSolver)]
    public void A_100_step_run_holds_the_same_native_memory_as_a_10_step_run(OdeMethod method)
    {
        (long peak, long after) Measure(int points)
        {
            using var x0 = torch.randn(2, 4, 16, 16);
            var live = new List<long>();
            var before = Live;
            var solver = OdeSolver.Create(method);
            var s = solver.Solve(Model(live), x0, Schedulers.TimeGrid.Create(points, shift: 4));
            var held = Live - before;
            s.Dispose();
            Assert.Equal(before, Live);
            return (live.Max() - before, held);
        }
        var small = Measure(11);
        var large = Measure(101);
        Assert.Equal(small.peak, large.peak);
        Assert.Equal(small.after, large.after);
        Assert.Equal(1, large.after); // only the result
    }

    [Theory]
    [InlineData(OdeMethod.Euler)]
    [InlineData(OdeMethod.Midpoint)]
    [InlineData(OdeMethod.Dopri5)]
    [InlineData(OdeMethod.DpmSolver)]
    public void Cancelling_mid_run_returns_within_one_model_call_without_leaking(OdeMethod method)
    {
        using var x0 = torch.randn(2, 4, 16, 16);
        using var cts = new CancellationTokenSource();
        var live = new List<long>();
        var before = Live;
        var solver = OdeSolver.Create(method);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            solver.Solve(Model(live, n => { if (n == 7) cts.Cancel(); }), x0, Schedulers.TimeGrid.Create(31), cancellationToken: cts.Token));
        Assert.Equal(7, live.Count);       // the call in flight finished; no further call was made
        Assert.Equal(before, Live);        // every intermediate was released
    }

    [Fact]
    public void Callback_sees_each_step_and_can_stop_the_run()
    {
        using var x0 = torch.randn(1, 4, 8, 8);
        var seen = new List<(int, double, int)>();
        var progress = new SyncProgress();
        var grid = Schedulers.TimeGrid.Create(11, shift: 4);
        using var s = new MidpointSolver().Solve(Model(new List<long>()), x0, grid, new SolveOptions
        {
            Progress = progress,
            KeepTrajectory = true,
            StepCallback = step =>
            {
                seen.Add((step.Index, step.Time, step.FunctionEvaluations));
                Assert.Equal(new long[] { 1, 4, 8, 8 }, step.Latents.shape);
                if (step.Index >= 3) step.Stop();
                return null;
            },
        });
        Assert.True(s.StoppedEarly);
        Assert.Equal(4, s.CompletedSteps);
        Assert.Equal(8, s.FunctionEvaluations);
        Assert.Equal(new[] { (0, grid[1], 2), (1, grid[2], 4), (2, grid[3], 6), (3, grid[4], 8) }, seen);
        Assert.Equal(4, progress.Reports.Count);
        Assert.Equal(10, progress.Reports[0].TotalSteps);
        Assert.Equal(0.4, progress.Reports[^1].Fraction, 12);
        Assert.Equal(5, s.Trajectory!.shape[0]);
        Assert.True(s.Trajectory[4].allclose(s.Final, 0, 0));
    }

    [Fact]
    public void Full_run_reports_every_interval()
    {
        using var x0 = torch.randn(1, 2);
        var progress = new SyncProgress();
        using var s = new Dopri5Solver().Solve((x, t) => -x, x0, Schedulers.TimeGrid.Create(6), new SolveOptions { Progress = progress });
        Assert.False(s.StoppedEarly);
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, progress.Reports.Select(r => r.Step));
        Assert.Equal(1.0, progress.Reports[^1].Fraction);
        Assert.Equal(s.FunctionEvaluations, progress.Reports[^1].FunctionEvaluations);
    }
}

public class SdeRunControlTests
{
    private static long Live => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Fact]
    public void Sde_runs_hold_constant_memory_and_cancel_cleanly()
    {
        using var x0 = torch.randn(2, 4, 8, 8);
        long Peak(int steps)
        {
            var peak = 0L;
            var before = Live;
            using var gen = new torch.Generator(3);
            using (new SdeSampler(new SdeOptions { NumSteps = steps, Method = SdeMethod.Heun })
                       .Sample((x, t) => { peak = Math.Max(peak, Live); return x * -0.5; }, x0, gen)) { }
            Assert.Equal(before, Live);
            return peak - before;
        }
        Assert.Equal(Peak(11), Peak(101));

        using var cts = new CancellationTokenSource();
        var calls = 0;
        var start = Live;
        using var g = new torch.Generator(3);
        Assert.ThrowsAny<OperationCanceledException>(() => new SdeSampler(new SdeOptions { NumSteps = 50 }).Sample(
            (x, t) => { if (++calls == 5) cts.Cancel(); return x * -0.5; }, x0, g, cancellationToken: cts.Token));
        Assert.Equal(5, calls);
        Assert.Equal(start, Live);
    }

    [Theory]
    [InlineData(OdeMethod.Euler)]
    [InlineData(OdeMethod.Dopri5)]
    public void A_velocity_that_returns_its_input_is_safe(OdeMethod method)
    {
        using var x0 = torch.ones(3, dtype: torch.ScalarType.Float64);
        // y' = y backwards from t = 1 to 0: y(0) = e⁻¹.
        using var s = OdeSolver.Create(method).Solve((x, t) => x, x0, TestOdes.Grid(1, 0, 201));
        Assert.InRange(TestOdes.Values(s.Final)[0], Math.Exp(-1) - 2e-3, Math.Exp(-1) + 2e-3);
    }
}
