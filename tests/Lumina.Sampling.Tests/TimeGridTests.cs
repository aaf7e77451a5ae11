using Lumina.Schedulers;
using Lumina.Testing;

namespace Lumina.Sampling.Tests;

public class TimeGridTests
{
    [Fact]
    public void Shifted_grid_equals_the_upstream_grid()
    {
        using var cases = Golden.OpenCases("sampling");
        using var golden = cases.Read("grid.shift4.n11");
        var want = golden.data<float>().ToArray();
        var got = TimeGrid.Create(11, shift: 4.0);
        Assert.Equal(want.Length, got.Length);
        for (var i = 0; i < want.Length; i++) Assert.Equal((double)want[i], got[i]);
    }

    [Fact]
    public void Linspace_uses_torch_float32_arithmetic()
    {
        // torch.linspace(0, 1, 11) in float32.
        var want = new[] { 0.0, 0.10000000149011612, 0.20000000298023224, 0.30000001192092896, 0.4000000059604645, 0.5,
                           0.6000000238418579, 0.699999988079071, 0.800000011920929, 0.8999999761581421, 1.0 };
        Assert.Equal(want, TimeGrid.Linspace(0, 1, 11));
    }

    [Fact]
    public void Img2img_starts_where_upstream_does()
    {
        // upstream: t = t[int(num_steps * (1 − strength)):]
        Assert.Equal(12, TimeGrid.Img2ImgStartIndex(30, 0.6));
        var grid = TimeGrid.Create(30, shift: 4, strength: 0.6);
        Assert.Equal(18, grid.Length);
        Assert.Equal(TimeGrid.Create(30, shift: 4)[12], grid[0]);
        Assert.Equal(1.0, grid[^1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeGrid.Img2ImgStartIndex(30, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeGrid.Img2ImgStartIndex(10, 0.05));
    }

    [Fact]
    public void Shift_moves_steps_towards_noise_and_keeps_the_ends()
    {
        var plain = TimeGrid.Create(11);
        var shifted = TimeGrid.Create(11, shift: 4);
        Assert.Equal(0.0, shifted[0]);
        Assert.Equal(1.0, shifted[^1]);
        for (var i = 1; i < 10; i++) Assert.True(shifted[i] < plain[i]);
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeGrid.Shift(plain, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeGrid.Linspace(0, 1, 1));
    }
}

public class SolverGridTests
{
    [Fact]
    public void Each_solver_gets_upstreams_grid_for_it()
    {
        Assert.Equal(TimeGrid.Create(19, shift: 6), TimeGrid.ForSolver(Lumina.Solvers.OdeMethod.Midpoint, 18, 6));
        Assert.Equal(TimeGrid.Create(31), TimeGrid.ForSolver(Lumina.Solvers.OdeMethod.Euler, 30, 1.0));
        Assert.Equal(TimeGrid.DpmSolverFlow(18, 6), TimeGrid.ForSolver(Lumina.Solvers.OdeMethod.DpmSolver, 18, 6));
        Assert.Equal(TimeGrid.DpmSolverFlow(18, 6)[7..], TimeGrid.ForSolver(Lumina.Solvers.OdeMethod.DpmSolver, 18, 6, strength: 0.6));
    }
}
