using Lumina.Schedulers;
using Lumina.Solvers;
using Lumina.Testing;
using TorchSharp;

namespace Lumina.Sampling.Tests;

public class SchedulerTests
{
    private static float[] Golden1D(string name)
    {
        using var cases = Golden.OpenCases("scheduler");
        using var t = cases.Read(name);
        return t.data<float>().ToArray();
    }

    [Theory]
    [InlineData("shift1.0")]
    [InlineData("shift3.0")]
    public void Sigmas_and_timesteps_equal_diffusers_for_the_golden_configs(string name)
    {
        // The config comes from the golden json exactly as diffusers saved it, through a real file.
        var config = Golden.Json("scheduler")["configs"]![name]!.ToJsonString();
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("scheduler_config.json"), config);
        var scheduler = FlowMatchEulerDiscreteScheduler.FromConfigFile(folder.Path);
        scheduler.SetTimesteps(30);

        var sigmas = Golden1D($"sigmas.{name}");
        var timesteps = Golden1D($"timesteps.{name}");
        Assert.Equal(31, scheduler.Sigmas.Count);
        Assert.Equal(30, scheduler.Timesteps.Count);
        for (var i = 0; i < sigmas.Length; i++)
            Assert.True(Math.Abs(sigmas[i] - scheduler.Sigmas[i]) <= 1e-7, $"sigma {i}: {scheduler.Sigmas[i]} vs {sigmas[i]}");
        for (var i = 0; i < timesteps.Length; i++)
            Assert.True(Math.Abs(timesteps[i] - scheduler.Timesteps[i]) <= 1e-4, $"timestep {i}: {scheduler.Timesteps[i]} vs {timesteps[i]}");
    }

    [Fact]
    public void Config_parsing_rejects_other_schedulers_and_bad_values()
    {
        Assert.Throws<ArgumentException>(() => FlowMatchSchedulerConfig.FromJson("""{"_class_name": "EulerDiscreteScheduler"}"""));
        Assert.Throws<ArgumentException>(() => FlowMatchSchedulerConfig.FromJson("""{"shift": "big"}"""));
        Assert.Throws<ArgumentException>(() => FlowMatchSchedulerConfig.FromJson("""{"shift": -1}"""));
        Assert.Throws<ArgumentException>(() => FlowMatchSchedulerConfig.FromJson("[1,2]"));
        Assert.Throws<NotSupportedException>(() => FlowMatchSchedulerConfig.FromJson("""{"use_beta_sigmas": true}"""));
        var c = FlowMatchSchedulerConfig.FromJson("""{"_class_name": "FlowMatchEulerDiscreteScheduler", "_diffusers_version": "0.30.0", "shift": 6.0, "num_train_timesteps": 1000, "shift_terminal": null}""");
        Assert.Equal(6.0, c.Shift);
        Assert.Null(c.ShiftTerminal);
        using var folder = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => FlowMatchEulerDiscreteScheduler.FromConfigFile(folder.File("missing.json")));
    }

    [Fact]
    public void Dynamic_shifting_needs_mu_and_equals_a_static_shift_of_exp_mu()
    {
        var dyn = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { UseDynamicShifting = true });
        Assert.Throws<ArgumentException>(() => dyn.SetTimesteps(10));
        var mu = TimeGrid.DynamicShiftMu(4096);
        Assert.Equal(1.15, mu, 12);
        Assert.Equal(0.5, TimeGrid.DynamicShiftMu(256), 12);
        dyn.SetTimesteps(10, mu);
        // Unshifted training range (σ_min = 1/1000), shifted once by e^μ.
        var staticShift = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig());
        staticShift.SetTimesteps(10);
        var expected = TimeGrid.DynamicShift(TimeGrid.FromSigmas(staticShift.Sigmas), mu);
        var flow = dyn.FlowTimes();
        for (var i = 0; i < flow.Length; i++) Assert.True(Math.Abs(expected[i] - flow[i]) <= 1e-6, $"{i}: {flow[i]} vs {expected[i]}");
        var viaStatic = TimeGrid.Shift(new[] { 0.25, 0.5, 0.75 }, Math.Exp(mu));
        var viaDynamic = TimeGrid.DynamicShift(new[] { 0.25, 0.5, 0.75 }, mu);
        for (var i = 0; i < 3; i++) Assert.Equal(viaDynamic[i], viaStatic[i], 6);
    }

    [Fact]
    public void Euler_step_is_sample_plus_sigma_difference_times_output()
    {
        var s = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { Shift = 3 });
        s.SetTimesteps(5);
        using var x = torch.ones(2, 3);
        using var v = torch.full(new long[] { 2, 3 }, 2.0f);
        using var next = s.Step(v, 1, x);
        var expected = 1f + (s.Sigmas[2] - s.Sigmas[1]) * 2f;
        Assert.All(next.data<float>().ToArray(), a => Assert.Equal(expected, a, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Step(v, 5, x));
        using var noise = torch.zeros(2, 3);
        using var noised = s.ScaleNoise(x, 0, noise);
        Assert.All(noised.data<float>().ToArray(), a => Assert.Equal(1 - s.Sigmas[0], a, 6));
    }

    [Fact]
    public void Karras_and_exponential_schedules_run_from_the_shifted_max_to_min()
    {
        var k = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { UseKarrasSigmas = true, Shift = 3 });
        k.SetTimesteps(8);
        var e = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { UseExponentialSigmas = true, Shift = 3 });
        e.SetTimesteps(8);
        var plain = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { Shift = 3 });
        plain.SetTimesteps(8);
        foreach (var s in new[] { k, e })
        {
            Assert.Equal(plain.Sigmas[0], s.Sigmas[0], 5);
            Assert.Equal(plain.Sigmas[7], s.Sigmas[7], 5);
            for (var i = 1; i < 8; i++) Assert.True(s.Sigmas[i] < s.Sigmas[i - 1]);
        }
    }
}

public class SchedulerSolverAgreementTests
{
    [Fact]
    public void Scheduler_euler_steps_equal_the_euler_solver_on_the_scheduler_flow_times()
    {
        // diffusers: x ← x + (σₙₑₓₜ − σ)·out with out = noise − data; Lumina: t = 1 − σ and v = −out.
        var scheduler = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { Shift = 3 });
        scheduler.SetTimesteps(12);
        using var data = torch.randn(1, 4, 6, 6);
        using var noise = torch.randn(1, 4, 6, 6);
        torch.Tensor Output(torch.Tensor x, double sigma) => (x - data) * (1.0 / Math.Max(sigma, 1e-3)); // exact noise − data along the path

        var x = noise.clone();
        for (var i = 0; i < scheduler.NumInferenceSteps; i++)
        {
            using var output = Output(x, scheduler.Sigmas[i]);
            var next = scheduler.Step(output, i, x);
            x.Dispose();
            x = next;
        }
        using var viaScheduler = x;
        using var viaSolver = new EulerSolver().Solve((y, t) => -Output(y, 1 - t), noise, scheduler.FlowTimes());
        Assert.True(viaScheduler.allclose(viaSolver.Final, 1e-4, 1e-5));
        Assert.True(viaScheduler.allclose(data, 1e-3, 1e-3));   // the exact velocity lands on the data
    }
}
