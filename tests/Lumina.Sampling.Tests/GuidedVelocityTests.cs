using Lumina.Guidance;
using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Sampling.Tests;

public class GuidedVelocityTests
{
    // A stand-in for a DiT over [cond; uncond]: the conditioned half returns 2x + t, the unconditioned x − t.
    private static int _calls;

    private static torch.Tensor Model(torch.Tensor x, torch.Tensor t)
    {
        _calls++;
        var half = x.shape[0] / 2;
        var tt = t.reshape(-1, 1, 1, 1);
        var cond = x.narrow(0, 0, half) * 2 + tt.narrow(0, 0, half);
        var uncond = x.narrow(0, half, half) - tt.narrow(0, half, half);
        return torch.cat(new[] { cond, uncond }, 0);
    }

    private static torch.Tensor CondOnly(torch.Tensor x, torch.Tensor t) => x * 2 + t.reshape(-1, 1, 1, 1);

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
    }

    [Fact]
    public void Batch_layout_equals_the_first_half_of_the_doubled_layout()
    {
        using var x = torch.randn(1, 4, 3, 3);
        using var doubled = torch.cat(new[] { x, x }, 0);
        foreach (var channels in new[] { GuidanceChannels.LuminaFirstThree, GuidanceChannels.All })
        {
            var options = new GuidanceOptions { Scale = 3, Channels = channels, Renormalize = true };
            using var a = GuidedVelocity.ForBatch(Model, options)(x, 0.5);
            using var b = GuidedVelocity.ForDoubledBatch(Model, options)(doubled, 0.5);
            Assert.True(a.allclose(b.narrow(0, 0, 1), 1e-5, 1e-6));
        }
    }

    [Fact]
    public void Truncation_stops_guiding_and_evaluates_only_the_conditioned_half()
    {
        using var x = torch.randn(1, 4, 3, 3);
        var options = new GuidanceOptions { Scale = 4, TruncateAfter = 0.6 };
        var v = GuidedVelocity.ForBatch(Model, options, CondOnly);
        _calls = 0;
        using var early = v(x, 0.5);
        Assert.Equal(1, _calls);
        using var late = v(x, 0.75);
        Assert.Equal(1, _calls);   // the conditioned-only model served the truncated step
        using var cond = x * 2 + 0.75;
        Assert.True(late.allclose(cond, 1e-5, 1e-6));
        using var unguided = x * 2 + 0.5;
        Assert.False(early.allclose(unguided, 1e-3, 1e-3));

        // Without a conditioned-only model the doubled batch still gives the conditioned output.
        using var doubled = torch.cat(new[] { x, x }, 0);
        using var fallback = GuidedVelocity.ForDoubledBatch(Model, options)(doubled, 0.75);
        Assert.True(fallback.narrow(0, 1, 1).allclose(cond, 1e-5, 1e-6));
    }

    [Fact]
    public void Renormalisation_matches_the_conditioned_norm_over_the_last_dimension()
    {
        using var x = torch.randn(1, 4, 3, 5);
        using var v = GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = 7, Channels = GuidanceChannels.All, Renormalize = true })(x, 0.3);
        using var cond = x * 2 + 0.3;
        Assert.True(v.norm(-1).allclose(cond.norm(-1), 1e-4, 1e-5));
        using var plain = GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = 7, Channels = GuidanceChannels.All })(x, 0.3);
        Assert.False(plain.norm(-1).allclose(cond.norm(-1), 1e-2, 1e-2));
    }

    [Fact]
    public void Guided_velocity_drives_a_solver_and_rejects_bad_settings()
    {
        using var x = torch.randn(1, 4, 2, 2);
        using var s = new MidpointSolver().Solve(GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = 1 }), x, Schedulers.TimeGrid.Create(5));
        Assert.Equal(8, s.FunctionEvaluations);
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForBatch(Model, new GuidanceOptions { TruncateAfter = 2 }));
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForBatch(Model, new GuidanceOptions { Scale = double.NaN }));
        using var odd = torch.randn(3, 4, 2, 2);
        Assert.Throws<ArgumentException>(() => GuidedVelocity.ForDoubledBatch(Model)(odd, 0.1));
    }
}
