using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Sampling.Tests;

public class Dopri5SolverTests
{
    // Reference counts and values from torchdiffeq (657943a) odeint(method='dopri5', atol=[1e-6], rtol=[1e-3]),
    // the way upstream Lumina calls it; accepted/rejected counted with callback_accept_step/callback_reject_step.
    [Fact]
    public void Rotation_float64_matches_torchdiffeq_steps_and_calls()
    {
        using var y0 = torch.tensor(new double[] { 1, 0 });
        using var s = new Dopri5Solver().Solve(TestOdes.Rotation, y0, TestOdes.Grid(0, 2, 5));
        Assert.Equal((38, 6, 0), (s.FunctionEvaluations, s.AcceptedSteps, s.RejectedSteps));
        var got = TestOdes.Values(s.Final);
        Assert.Equal(-0.4167093535134194, got[0], 12);
        Assert.Equal(-0.9092209988913176, got[1], 12);
    }

    [Fact]
    public void Reversed_rotation_matches_torchdiffeq()
    {
        using var y0 = torch.tensor(new double[] { 1, 0 });
        using var s = new Dopri5Solver().Solve(TestOdes.Rotation, y0, TestOdes.Grid(2, 0, 5));
        Assert.Equal((38, 6, 0), (s.FunctionEvaluations, s.AcceptedSteps, s.RejectedSteps));
        var got = TestOdes.Values(s.Final);
        Assert.Equal(-0.41670935351341937, got[0], 12);
        Assert.Equal(0.9092209988913177, got[1], 12);
    }

    [Fact]
    public void Nonlinear_float32_matches_torchdiffeq_including_a_rejected_step()
    {
        using var y0 = torch.tensor(new float[] { 1, 2, 0.5f });
        using var s = new Dopri5Solver().Solve((x, t) => x * (float)(-2 * t) * x, y0, Schedulers.TimeGrid.Linspace(0, 3, 7));
        Assert.Equal((74, 10, 2), (s.FunctionEvaluations, s.AcceptedSteps, s.RejectedSteps));
        var got = TestOdes.Values(s.Final);
        Assert.Equal(new[] { 0.10023938119411469, 0.10652349144220352, 0.09093152731657028 }, got,
            (a, b) => Math.Abs(a - b) <= 1e-6);
    }

    [Theory]
    [InlineData(new float[] { 0, 3 }, 122, 18, 2, new[] { 0.06420140713453293, 0.06420156359672546 })]
    [InlineData(new float[] { 5, -2, 0.5f }, 116, 16, 3, new[] { 0.06442512571811676, 0.06442519277334213, 0.06442523002624512 })]
    public void Stiff_relaxation_float32_matches_torchdiffeq(float[] start, int nfe, int accepted, int rejected, double[] final)
    {
        using var y0 = torch.tensor(start);
        using var s = new Dopri5Solver().Solve(TestOdes.Relaxation, y0, Schedulers.TimeGrid.Linspace(0, 1, 3));
        Assert.Equal((nfe, accepted, rejected), (s.FunctionEvaluations, s.AcceptedSteps, s.RejectedSteps));
        Assert.Equal(2 + 6 * (s.AcceptedSteps + s.RejectedSteps), s.FunctionEvaluations);
        Assert.Equal(final, TestOdes.Values(s.Final), (a, b) => Math.Abs(a - b) <= 1e-6);
    }

    // A latent-shaped float32 state [2, 4, 16, 12] on the shifted Lumina grid (11 points, shift 4); references
    // from torchdiffeq as above: calls/accepted/rejected, then the sum, max |y| and one element of the result.
    [Theory]
    [InlineData("relaxation", 110, 15, 3, 98.87419891357422, 0.0643712729215622, 0.06437116116285324)]
    [InlineData("riccati", 50, 7, 1, 855.0814819335938, 0.7493166923522949, 0.7186127305030823)]
    public void Latent_shaped_float32_state_matches_torchdiffeq(string problem, int nfe, int accepted, int rejected,
        double sum, double maxAbs, double element)
    {
        var init = Enumerable.Range(0, 1536).Select(k => (float)(k % 97) / 32f + 0.1f).ToArray();
        using var y0 = torch.tensor(init).reshape(2, 4, 16, 12);
        VelocityFunction f = problem == "relaxation" ? TestOdes.Relaxation : (x, t) => x * (float)(-2 * t) * x;
        using var s = new Dopri5Solver().Solve(f, y0, Schedulers.TimeGrid.Create(11, shift: 4));
        Assert.Equal((nfe, accepted, rejected), (s.FunctionEvaluations, s.AcceptedSteps, s.RejectedSteps));
        Assert.Equal(sum, s.Final.sum().item<float>(), 1e-3);
        Assert.Equal(maxAbs, s.Final.abs().max().item<float>(), 1e-6);
        Assert.Equal(element, s.Final[1, 3, 15, 11].item<float>(), 1e-6);
    }

    /// <summary>
    /// Dopri5 controls the local error per step; the global error at the grid times stays within a small
    /// multiple (here 20×; about 11× on the fast Riccati start y₀ = 3 at the default tolerances) of <c>atol + rtol·|y|</c>, and tightening the tolerances shrinks it accordingly.
    /// </summary>
    [Theory]
    [InlineData(1e-6, 1e-3)]
    [InlineData(1e-9, 1e-7)]
    public void Meets_its_tolerance_on_known_solutions(double atol, double rtol)
    {
        var solver = new Dopri5Solver(new AdaptiveStepOptions { AbsoluteTolerance = atol, RelativeTolerance = rtol });
        var grid = TestOdes.Grid(0, 2, 11);

        using var r0 = torch.tensor(new double[] { 1, 0 });
        using var rot = solver.Solve(TestOdes.Rotation, r0, grid, new SolveOptions { KeepTrajectory = true });
        using var q0 = torch.tensor(new double[] { 1, 3, 0.25 });
        using var ric = solver.Solve(TestOdes.Riccati, q0, grid, new SolveOptions { KeepTrajectory = true });

        var worst = 0.0;
        for (var i = 0; i < grid.Length; i++)
        {
            var rotGot = TestOdes.Values(rot.Trajectory![i]);
            var rotWant = TestOdes.RotationExact(grid[i]);
            var norm = Math.Sqrt(rotWant[0] * rotWant[0] + rotWant[1] * rotWant[1]);
            for (var j = 0; j < 2; j++)
                worst = Math.Max(worst, Math.Abs(rotGot[j] - rotWant[j]) / (atol + rtol * norm));
            var ricGot = TestOdes.Values(ric.Trajectory![i]);
            var y0s = new[] { 1, 3, 0.25 };
            for (var j = 0; j < 3; j++)
            {
                var want = TestOdes.RiccatiExact(y0s[j], grid[i]);
                worst = Math.Max(worst, Math.Abs(ricGot[j] - want) / (atol + rtol * Math.Abs(want)));
            }
        }
        Assert.InRange(worst, 0, 20);
        Assert.Equal(2 + 6 * (rot.AcceptedSteps + rot.RejectedSteps), rot.FunctionEvaluations);
    }

    [Fact]
    public void Invalid_controller_settings_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new Dopri5Solver(new AdaptiveStepOptions { Safety = 0 }));
        Assert.Throws<ArgumentException>(() => new Dopri5Solver(new AdaptiveStepOptions { AbsoluteTolerance = 0, RelativeTolerance = 0 }));
        Assert.Throws<ArgumentException>(() => new Dopri5Solver(new AdaptiveStepOptions { FirstStep = -1 }));
    }

    [Fact]
    public void Step_budget_exhaustion_says_what_to_do()
    {
        var solver = new Dopri5Solver(new AdaptiveStepOptions { MaxStepsPerInterval = 2, FirstStep = 1e-4 });
        using var y0 = torch.tensor(new double[] { 1, 0 });
        var ex = Assert.Throws<InvalidOperationException>(() => solver.Solve(TestOdes.Rotation, y0, new[] { 0.0, 2.0 }));
        Assert.Contains("MaxStepsPerInterval", ex.Message);
    }
}
