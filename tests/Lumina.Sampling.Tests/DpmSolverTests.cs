using Lumina.Schedulers;
using Lumina.Solvers;
using Lumina.Testing;
using TorchSharp;

namespace Lumina.Sampling.Tests;

/// <summary>DPM-Solver++ (multistep, order 2) and its <c>time_uniform_flow</c> grid, on upstream's grid and on flows with known solutions.</summary>
public class DpmSolverTests
{
    [Theory]
    [InlineData("sample_py")]
    [InlineData("trunc0.2")]
    public void Grid_equals_upstreams_time_uniform_flow_grid_with_shift_6(string run)
    {
        using var cases = Golden.OpenCases("lumina2_dpm");
        using var sigmas = cases.Read($"timesteps.dpm.{run}");
        var want = sigmas.data<float>().ToArray();
        var grid = TimeGrid.DpmSolverFlow(6, shift: 6.0);
        Assert.Equal(want.Length, grid.Length);
        for (var i = 0; i < want.Length; i++)
            Assert.Equal((double)(1f - want[i]), grid[i]);
        Assert.Equal(1.0, grid[^1]);
        // The times upstream's model saw (t = 1 − σ) are the first six grid times.
        var seen = Golden.Json("lumina2_dpm")["runs"]![run]!["model_times_t_upstream"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        Assert.Equal(seen, grid[..^1].Select(t => (double)(float)t).ToArray());
    }

    [Fact]
    public void Grid_without_shift_is_uniform_in_sigma_and_rejects_bad_input()
    {
        var grid = TimeGrid.DpmSolverFlow(3);
        Assert.Equal(new[] { 1 - 0.999f, 1 - 0.666f, 1 - 0.333f, 1.0 }.Select(v => (double)v), grid, new Near(2e-7));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeGrid.DpmSolverFlow(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeGrid.DpmSolverFlow(6, shift: 0));
    }

    /// <summary>
    /// The straight flow towards a fixed point x₁, v(x, t) = (x₁ − x)/(1 − t), has the data prediction x + σ·v = x₁ at
    /// every point, so DPM-Solver++ is exact on it: every state lies on the path x = t·x₁ + (1 − t)·x₀ and the end is x₁.
    /// </summary>
    [Fact]
    public void Straight_flow_is_solved_exactly_with_one_call_per_step()
    {
        using var x0 = torch.randn(2, 3, 4, 4, generator: new torch.Generator(3), dtype: torch.float64);
        using var x1 = torch.randn(2, 3, 4, 4, generator: new torch.Generator(4), dtype: torch.float64);
        var grid = TimeGrid.DpmSolverFlow(7, shift: 6.0);
        using var start = x1 * grid[0] + x0 * (1 - grid[0]);
        var calls = new List<double>();
        using var solution = new DpmSolverPlusPlus().Solve((x, t) =>
        {
            calls.Add(t);
            return (x1 - x) / (1 - t);
        }, start, grid, new SolveOptions { KeepTrajectory = true });
        Assert.Equal(7, solution.FunctionEvaluations);
        Assert.Equal(grid[..^1], calls);
        Assert.Equal(8, solution.Trajectory!.shape[0]);
        for (var i = 0; i < grid.Length; i++)
        {
            using var onPath = x1 * grid[i] + x0 * (1 - grid[i]);
            TensorAssert.Close(onPath, solution.Trajectory[i], atol: 1e-12, rtol: 1e-12, what: $"state {i}");
        }
        TensorAssert.Close(x1, solution.Final, atol: 1e-12, rtol: 0, what: "final = x₁");
    }

    /// <summary>
    /// Gaussian data x₁ ~ N(μ, s²) with noise x₀ ~ N(0, 1): the probability-flow ODE of x_t = t·x₁ + (1 − t)·x₀ has
    /// the velocity v(x, t) = μ + (c′(t)/c(t))·(x − tμ) with c = √(t²s² + (1 − t)²), and the exact solution
    /// x(t) = tμ + c(t)·x₀. On a grid uniform in λ = log((1 − σ)/σ) (σ from 0.99 to 0.01) DPM-Solver++ must converge at
    /// second order (doubling the steps cuts the error more than 3×), order 1 at first order (about 2×), and beat Euler at
    /// the same number of model calls.
    /// </summary>
    [Fact]
    public void Gaussian_flow_converges_at_second_order_and_beats_euler()
    {
        const double mu = 0.7, s = 0.3;
        static double C(double t) => Math.Sqrt(t * t * s * s + (1 - t) * (1 - t));
        static double Dc(double t) => (t * s * s - (1 - t)) / C(t);
        VelocityFunction v = (x, t) => (x - t * mu) * (Dc(t) / C(t)) + mu;
        using var z = torch.randn(64, generator: new torch.Generator(11), dtype: torch.float64);

        double Error(OdeSolver solver, double[] grid)
        {
            using var start = z * C(grid[0]) + grid[0] * mu;
            using var solution = solver.Solve(v, start, grid);
            using var exact = z * C(grid[^1]) + grid[^1] * mu;
            return (solution.Final - exact).abs().max().item<double>();
        }

        static double[] LambdaUniform(int steps)
        {
            static double Lambda(double sigma) => Math.Log((1 - sigma) / sigma);
            double a = Lambda(0.99), b = Lambda(0.01);
            return Enumerable.Range(0, steps + 1).Select(i => 1 - 1 / (1 + Math.Exp(a + (b - a) * i / steps))).ToArray();
        }

        var second = new[] { 16, 32, 64 }.Select(n => Error(new DpmSolverPlusPlus(), LambdaUniform(n))).ToArray();
        Assert.True(second[0] / second[1] > 3 && second[1] / second[2] > 3, $"errors {string.Join(", ", second)} do not fall at second order");
        var first = new[] { 32, 64 }.Select(n => Error(new DpmSolverPlusPlus(order: 1), LambdaUniform(n))).ToArray();
        Assert.InRange(first[0] / first[1], 1.7, 2.3);
        Assert.True(second[2] * 10 < first[1], $"order 2 ({second[2]}) should be far more accurate than order 1 ({first[1]})");
        var euler = Error(new EulerSolver(), LambdaUniform(32));
        Assert.True(second[1] * 10 < euler, $"DPM-Solver++ ({second[1]}) should be far more accurate than Euler ({euler}) at 32 calls each");
    }

    [Fact]
    public void Method_name_parses_and_creates_the_solver()
    {
        Assert.Equal(OdeMethod.DpmSolver, OdeSolver.ParseMethod("dpm"));
        Assert.Equal(OdeMethod.DpmSolver, OdeSolver.ParseMethod("DPM++"));
        var solver = Assert.IsType<DpmSolverPlusPlus>(OdeSolver.Create(OdeMethod.DpmSolver));
        Assert.Equal(2, solver.Order);
        Assert.Equal("dpm", solver.Name);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpmSolverPlusPlus(3));
    }

    [Fact]
    public void Grid_outside_flow_time_or_not_increasing_is_rejected_with_the_entry()
    {
        using var x = torch.zeros(2);
        var solver = new DpmSolverPlusPlus();
        var e = Assert.Throws<ArgumentException>(() => solver.Solve((y, _) => y * 0, x, [0.5, 0.2, 1.0]));
        Assert.Contains("strictly increasing", e.Message);
        e = Assert.Throws<ArgumentException>(() => solver.Solve((y, _) => y * 0, x, [0.5, 1.5]));
        Assert.Contains("1.5", e.Message);
    }

    [Fact]
    public void Callback_stops_the_run_and_counts_calls()
    {
        using var x0 = torch.randn(4);
        var steps = new List<int>();
        using var solution = new DpmSolverPlusPlus().Solve((x, t) => -x, x0, TimeGrid.DpmSolverFlow(6, 6.0),
            new SolveOptions { StepCallback = step => { steps.Add(step.Index); if (step.Index >= 2) step.Stop(); return null; } });
        Assert.Equal([0, 1, 2], steps);
        Assert.True(solution.StoppedEarly);
        Assert.Equal(3, solution.FunctionEvaluations);
    }

    private sealed class Near(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double value) => 0;
    }
}
