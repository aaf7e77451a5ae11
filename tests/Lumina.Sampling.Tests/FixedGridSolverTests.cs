using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Sampling.Tests;

public class FixedGridSolverTests
{
    public static TheoryData<OdeMethod, double> Orders => new()
    {
        { OdeMethod.Euler, 1 }, { OdeMethod.Midpoint, 2 }, { OdeMethod.Heun, 2 }, { OdeMethod.Rk4, 4 },
    };

    private static double EmpiricalOrder(Func<int, double> errorAtSteps)
    {
        // Least-squares slope of log(error) against log(h) over three halvings of the step.
        var steps = new[] { 16, 32, 64, 128 };
        var xs = steps.Select(n => Math.Log(1.0 / n)).ToArray();
        var ys = steps.Select(n => Math.Log(errorAtSteps(n))).ToArray();
        double mx = xs.Average(), my = ys.Average();
        return xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / xs.Sum(x => (x - mx) * (x - mx));
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public void Empirical_order_on_a_linear_system(OdeMethod method, double order)
    {
        var solver = OdeSolver.Create(method);
        using var y0 = torch.tensor(new double[] { 1, 0 });
        var p = EmpiricalOrder(n =>
        {
            using var s = solver.Solve(TestOdes.Rotation, y0, TestOdes.Grid(0, 2, n + 1));
            var got = TestOdes.Values(s.Final);
            var want = TestOdes.RotationExact(2);
            return Math.Sqrt(Math.Pow(got[0] - want[0], 2) + Math.Pow(got[1] - want[1], 2));
        });
        Assert.InRange(p, order - 0.3, order + 0.3);
    }

    [Theory]
    [MemberData(nameof(Orders))]
    public void Empirical_order_on_a_nonlinear_time_dependent_scalar_ode(OdeMethod method, double order)
    {
        var solver = OdeSolver.Create(method);
        using var y0 = torch.tensor(new double[] { 1.0 });
        var p = EmpiricalOrder(n =>
        {
            using var s = solver.Solve(TestOdes.Riccati, y0, TestOdes.Grid(0, 2, n + 1));
            return Math.Abs(TestOdes.Values(s.Final)[0] - TestOdes.RiccatiExact(1.0, 2));
        });
        Assert.InRange(p, order - 0.3, order + 0.3);
    }

    [Theory]
    [InlineData(OdeMethod.Euler, 1)]
    [InlineData(OdeMethod.Midpoint, 2)]
    [InlineData(OdeMethod.Heun, 2)]
    [InlineData(OdeMethod.Rk4, 4)]
    public void Calls_the_velocity_a_fixed_number_of_times_per_interval(OdeMethod method, int perStep)
    {
        var calls = 0;
        using var y0 = torch.ones(3);
        using var s = OdeSolver.Create(method).Solve((x, t) => { calls++; return TestOdes.Riccati(x, t); }, y0, TestOdes.Grid(0, 1, 8));
        Assert.Equal(7 * perStep, calls);
        Assert.Equal(calls, s.FunctionEvaluations);
        Assert.Equal(7, s.AcceptedSteps);
    }

    // Reference values: torchdiffeq odeint(f, [1, 2, 0.5], linspace(0, 3, 7), method=m) with f = −2·t·y·y, float32.
    [Theory]
    [InlineData(OdeMethod.Euler, 0.07857322692871094, 0.0, 0.07780797779560089)]
    [InlineData(OdeMethod.Midpoint, 0.10819286108016968, 0.11896176636219025, 0.09367107599973679)]
    [InlineData(OdeMethod.Heun, 0.10999669134616852, 0.11819949746131897, 0.09560056775808334)]
    [InlineData(OdeMethod.Rk4, 0.09990714490413666, 0.10447598993778229, 0.09090086817741394)]
    public void Float32_update_rules_match_torchdiffeq(OdeMethod method, double a, double b, double c)
    {
        using var y0 = torch.tensor(new float[] { 1, 2, 0.5f });
        var grid = Schedulers.TimeGrid.Linspace(0, 3, 7);
        using var s = OdeSolver.Create(method).Solve((x, t) => x * (float)(-2 * t) * x, y0, grid);
        var got = TestOdes.Values(s.Final);
        Assert.Equal(new[] { a, b, c }, got, (x, y) => Math.Abs(x - y) <= 1e-6 * Math.Max(1, Math.Abs(x)));
    }

    [Theory]
    [InlineData(OdeMethod.Euler)]
    [InlineData(OdeMethod.Rk4)]
    [InlineData(OdeMethod.Dopri5)]
    public void A_decreasing_grid_integrates_backwards(OdeMethod method)
    {
        using var y2 = torch.tensor(TestOdes.RotationExact(2));
        using var s = OdeSolver.Create(method).Solve(TestOdes.Rotation, y2, TestOdes.Grid(2, 0, 201));
        var got = TestOdes.Values(s.Final);
        var tol = method switch { OdeMethod.Euler => 2e-2, OdeMethod.Dopri5 => 2e-3, _ => 1e-4 };
        Assert.InRange(got[0], 1 - tol, 1 + tol);
        Assert.InRange(got[1], -tol, tol);
    }

    [Fact]
    public void Trajectory_holds_every_grid_time_starting_with_the_initial_state()
    {
        using var y0 = torch.tensor(new double[] { 1.0 });
        var grid = TestOdes.Grid(0, 1, 5);
        using var s = new Rk4Solver().Solve(TestOdes.Riccati, y0, grid, new SolveOptions { KeepTrajectory = true });
        Assert.NotNull(s.Trajectory);
        Assert.Equal(new long[] { 5, 1 }, s.Trajectory!.shape);
        var traj = TestOdes.Values(s.Trajectory);
        Assert.Equal(1.0, traj[0]);
        for (var i = 0; i < grid.Length; i++) Assert.Equal(TestOdes.RiccatiExact(1, grid[i]), traj[i], 3);
        Assert.Equal(traj[^1], TestOdes.Values(s.Final)[0]);
    }

    [Fact]
    public void Bad_inputs_are_rejected_with_a_reason()
    {
        using var y0 = torch.ones(2);
        var solver = new EulerSolver();
        Assert.Contains("strictly", Assert.Throws<ArgumentException>(() => solver.Solve(TestOdes.Riccati, y0, new[] { 0.0, 0.5, 0.5, 1 })).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => solver.Solve(TestOdes.Riccati, y0, Array.Empty<double>())).Message);
        var ex = Assert.Throws<InvalidOperationException>(() => solver.Solve((x, t) => torch.ones(3), y0, new[] { 0.0, 1 }));
        Assert.Contains("[3]", ex.Message);
        using var ints = torch.ones(2, dtype: torch.ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => solver.Solve(TestOdes.Riccati, ints, new[] { 0.0, 1 }));
        Assert.Throws<ArgumentException>(() => OdeSolver.ParseMethod("rk45"));
        Assert.Equal(OdeMethod.Heun, OdeSolver.ParseMethod("heun2"));
    }
}
