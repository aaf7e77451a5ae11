using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Sampling.Tests;

public class SdeSamplerTests
{
    // Data x₁ ~ N(m, s²), noise x₀ ~ N(0, 1), x_t = t·x₁ + (1−t)·x₀: the exact velocity E[x₁ − x₀ | x_t = x].
    private const double M = 1.5, S = 0.5;

    private static torch.Tensor GaussianVelocity(torch.Tensor x, double t)
    {
        var cov = t * S * S - (1 - t);
        var variance = t * t * S * S + (1 - t) * (1 - t);
        return (x - t * M) * (cov / variance) + M;
    }

    [Theory]
    [InlineData(SdeMethod.EulerMaruyama, DiffusionForm.Sbdm, SdeLastStep.Mean)]
    [InlineData(SdeMethod.Heun, DiffusionForm.Sbdm, SdeLastStep.Mean)]
    [InlineData(SdeMethod.EulerMaruyama, DiffusionForm.Sigma, SdeLastStep.Euler)]
    [InlineData(SdeMethod.EulerMaruyama, DiffusionForm.Linear, SdeLastStep.Tweedie)]
    [InlineData(SdeMethod.Heun, DiffusionForm.IncreasingDecreasing, SdeLastStep.None)]
    public void Samples_the_target_distribution(SdeMethod method, DiffusionForm form, SdeLastStep last)
    {
        var sampler = new SdeSampler(new SdeOptions { Method = method, DiffusionForm = form, LastStep = last, NumSteps = 100 });
        using var gen = new torch.Generator(1234);
        using var x0 = torch.randn(new long[] { 20000 }, dtype: torch.ScalarType.Float64, generator: gen);
        using var s = sampler.Sample(GaussianVelocity, x0, gen);
        var mean = s.Final.mean().item<double>();
        var std = s.Final.std().item<double>();
        Assert.InRange(mean, M - 0.05, M + 0.05);
        Assert.InRange(std, S - 0.05, S + 0.05);
        Assert.False(torch.isnan(s.Final).any().item<bool>());
    }

    [Fact]
    public void Same_seed_same_sample_other_seed_other_sample()
    {
        var sampler = new SdeSampler(new SdeOptions { NumSteps = 20 });
        using var x0 = torch.zeros(3, 5);
        using var a = sampler.Sample(GaussianVelocity, x0, new torch.Generator(7));
        using var b = sampler.Sample(GaussianVelocity, x0, new torch.Generator(7));
        using var c = sampler.Sample(GaussianVelocity, x0, new torch.Generator(8));
        Assert.True(a.Final.allclose(b.Final, 0, 0));
        Assert.False(a.Final.allclose(c.Final, 0, 0));
    }

    [Fact]
    public void Without_diffusion_euler_maruyama_is_the_euler_ode_on_the_same_grid()
    {
        var sampler = new SdeSampler(new SdeOptions { DiffusionForm = DiffusionForm.Constant, DiffusionNorm = 0, LastStep = SdeLastStep.None, NumSteps = 11 });
        using var x0 = torch.randn(4, 3);
        var calls = 0;
        using var sde = sampler.Sample((x, t) => { calls++; return GaussianVelocity(x, t); }, x0, new torch.Generator(1));
        Assert.Equal(10, calls);
        Assert.Equal(sampler.Times(), sde.Times);
        using var ode = new EulerSolver().Solve(GaussianVelocity, x0, sampler.Times());
        Assert.True(torch.allclose(ode.Final, sde.Final, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Grid_and_last_step_follow_upstream()
    {
        var sampler = new SdeSampler(new SdeOptions { NumSteps = 250 });
        Assert.Equal((1e-3, 0.96), sampler.Interval);
        var times = sampler.Times();
        Assert.Equal(251, times.Length);
        Assert.Equal(1.0, times[^1], 6);
        Assert.Throws<ArgumentException>(() => new SdeSampler(new SdeOptions { SampleEpsilon = 0 }));
        Assert.Throws<ArgumentException>(() => new SdeSampler(new SdeOptions { NumSteps = 1 }));
    }
}
