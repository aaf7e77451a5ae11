using Lumina.Guidance;
using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Sampling.Tests;

public class GuidedVelocityTests
{
    // A stand-in for a DiT: conditioned rows return 2x + t, unconditioned rows x − t. It records the batch of each call.
    private readonly List<(long Rows, GuidanceBatch Batch)> _calls = new();

    private torch.Tensor Model(torch.Tensor x, torch.Tensor t, GuidanceBatch batch)
    {
        _calls.Add((x.shape[0], batch));
        var tt = t.reshape(-1, 1, 1, 1);
        if (batch == GuidanceBatch.ConditionalOnly) return x * 2 + tt;
        var half = x.shape[0] / 2;
        var cond = x.narrow(0, 0, half) * 2 + tt.narrow(0, 0, half);
        var uncond = x.narrow(0, half, half) - tt.narrow(0, half, half);
        return torch.cat(new[] { cond, uncond }, 0);
    }

    [Fact]
    public void Doubled_batch_applies_lumina_guidance_to_channels_0_to_2()
    {
        using var x = torch.randn(2, 4, 3, 3);
        var v = GuidedVelocity.ForDoubledBatch(Model, new GuidanceOptions { Scale = 4 });
        using var got = v(x, 0.25);
        using var first = x.narrow(0, 0, 1);
        using var cond = first * 2 + 0.25;
        using var uncond = first - 0.25;
        using var mixed = uncond + (cond - uncond) * 4;
        Assert.True(got.narrow(0, 0, 1).narrow(1, 0, 3).allclose(mixed.narrow(1, 0, 3), 1e-5, 1e-6));
        Assert.True(got.narrow(0, 1, 1).narrow(1, 0, 3).allclose(mixed.narrow(1, 0, 3), 1e-5, 1e-6));
        Assert.True(got.narrow(0, 0, 1).narrow(1, 3, 1).allclose(cond.narrow(1, 3, 1), 1e-5, 1e-6));   // raw per half
        Assert.True(got.narrow(0, 1, 1).narrow(1, 3, 1).allclose(uncond.narrow(1, 3, 1), 1e-5, 1e-6));
        Assert.Equal([(2L, GuidanceBatch.Both)], _calls);
    }

    [Fact]
    public void Batch_layout_equals_the_first_half_of_the_doubled_layout()
    {
        using var x = torch.randn(1, 4, 3, 3);
        using var doubled = torch.cat(new[] { x, x }, 0);
        foreach (var channels in new[] { GuidanceChannels.LuminaFirstThree, GuidanceChannels.All })
        {
            var options = new GuidanceOptions { Scale = 3, Channels = channels, RescaleToConditionalNorm = true, ClipToConditionalNorm = 1.1 };
            using var a = GuidedVelocity.ForBatch(Model, options)(x, 0.5);
            using var b = GuidedVelocity.ForDoubledBatch(Model, options)(doubled, 0.5);
            Assert.True(a.allclose(b.narrow(0, 0, 1), 1e-5, 1e-6));
        }
    }

    [Fact]
    public void Time_truncation_is_strict_and_runs_the_conditional_half_alone()
    {
        using var x = torch.randn(1, 4, 3, 3);
        var options = new GuidanceOptions { Scale = 4, TruncateAtTime = 0.5 };
        var v = GuidedVelocity.ForBatch(Model, options);
        using var early = v(x, 0.25);
        using var boundary = v(x, 0.5);   // upstream guides only while t < cutoff
        using var late = v(x, 0.75);
        Assert.Equal([(2L, GuidanceBatch.Both), (1L, GuidanceBatch.ConditionalOnly), (1L, GuidanceBatch.ConditionalOnly)], _calls);
        using var cond = x * 2 + 0.75;
        Assert.True(late.allclose(cond, 1e-5, 1e-6));
        using var unguided = x * 2 + 0.25;
        Assert.False(early.allclose(unguided, 1e-3, 1e-3));

        // The doubled layout runs the first half alone (batch 1) and writes it into both halves.
        _calls.Clear();
        using var doubled = torch.cat(new[] { x, x }, 0);
        using var both = GuidedVelocity.ForDoubledBatch(Model, options)(doubled, 0.75);
        Assert.Equal([(1L, GuidanceBatch.ConditionalOnly)], _calls);
        Assert.True(both.narrow(0, 0, 1).allclose(cond, 1e-5, 1e-6));
        Assert.True(both.narrow(0, 1, 1).allclose(cond, 1e-5, 1e-6));
    }

    [Fact]
    public void Step_fraction_truncation_follows_diffusers_cfg_trunc_ratio()
    {
        // diffusers: step i (0-based) of N is unguided when (i + 1) / N > ratio. N = 4, ratio 0.5: steps 0 and 1 guided.
        var options = new GuidanceOptions { Scale = 4, TruncateAfterStepFraction = 0.5 };
        Assert.Equal(new[] { true, true, false, false }, Enumerable.Range(0, 4).Select(i => options.IsGuidedAt(0.0, i, 4)));
        Assert.Throws<InvalidOperationException>(() => options.IsGuidedAt(0.3));

        // Through a solver: midpoint makes two calls per step, both belong to the step's interval.
        var grid = Schedulers.TimeGrid.Create(5);
        using var x = torch.randn(1, 4, 2, 2);
        using var s = new MidpointSolver().Solve(GuidedVelocity.ForBatch(Model, options, grid), x, grid);
        Assert.Equal(new[] { 2L, 2, 2, 2, 1, 1, 1, 1 }, _calls.Select(c => c.Rows));
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForBatch(Model, options));
    }

    [Fact]
    public void Rescale_matches_the_conditional_norm_over_the_last_dimension()
    {
        using var x = torch.randn(1, 4, 3, 5);
        using var v = GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = 7, Channels = GuidanceChannels.All, RescaleToConditionalNorm = true })(x, 0.3);
        using var cond = x * 2 + 0.3;
        Assert.True(v.norm(-1).allclose(cond.norm(-1), 1e-4, 1e-5));
        using var plain = GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = 7, Channels = GuidanceChannels.All })(x, 0.3);
        Assert.False(plain.norm(-1).allclose(cond.norm(-1), 1e-2, 1e-2));
    }

    [Fact]
    public void Clip_limits_the_per_sample_norm_to_r_times_the_conditional_norm()
    {
        // Two samples: one whose guided norm exceeds r·‖cond‖ (clipped to exactly that), one below it (unchanged).
        using var output = torch.stack(new[]
        {
            torch.full(new long[] { 2, 3 }, 2f), torch.full(new long[] { 2, 3 }, 1f),     // cond rows
            torch.full(new long[] { 2, 3 }, 1f), torch.full(new long[] { 2, 3 }, 1.1f),   // uncond rows
        });
        var options = new GuidanceOptions { Scale = 3, Channels = GuidanceChannels.All, ClipToConditionalNorm = 1.2 };
        using var got = ClassifierFreeGuidance.Combine(output, options);
        using var plain = ClassifierFreeGuidance.Combine(output, options with { ClipToConditionalNorm = 0 });
        var condNorm0 = Math.Sqrt(6 * 4.0);
        Assert.Equal(1.2 * condNorm0, got[0].norm().item<float>(), 4);           // 4·√6 > 1.2·2√6: clipped
        Assert.True(got[1].allclose(plain[1]));                                   // 0.8·√6 < 1.2·√6: kept
        Assert.True(plain[0].norm().item<float>() > 1.2 * condNorm0);
    }

    [Fact]
    public void Guided_velocity_drives_a_solver_and_rejects_bad_settings()
    {
        using var x = torch.randn(1, 4, 2, 2);
        using var s = new MidpointSolver().Solve(GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = 1 }), x, Schedulers.TimeGrid.Create(5));
        Assert.Equal(8, s.FunctionEvaluations);
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForBatch(Model, new GuidanceOptions { TruncateAtTime = 2 }));
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = double.NaN }));
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForBatch(Model, new GuidanceOptions { ClipToConditionalNorm = -1 }));
        using var odd = torch.randn(3, 4, 2, 2);
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForDoubledBatch(Model)(odd, 0.1));
        var ex = Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.Combine(torch.zeros(3, 4), new GuidanceOptions()));
        Assert.Contains("even", ex.Message);
    }
}
