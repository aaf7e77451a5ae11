using Lumina.Guidance;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Schedulers;
using Lumina.Solvers;
using Lumina.Testing;
using TorchSharp;

namespace Lumina.Sampling.Tests;

/// <summary>The one sampling loop: step-end callbacks that replace the latents, guidance layouts, the DiT path.</summary>
public sealed class FlowSamplingTests
{
    // dx/dt = 1 on every row: Euler from x0 over [0, 1] ends at x0 + 1, exactly.
    private static torch.Tensor Constant(torch.Tensor x, torch.Tensor t, GuidanceBatch batch) => torch.ones_like(x);

    [Fact]
    public void A_step_end_callback_replaces_the_latents_mid_run_and_the_run_continues_from_them()
    {
        using var noise = torch.full(new long[] { 1, 4, 2, 2 }, 5f);
        var grid = TimeGrid.Create(5);                                 // 0, .25, .5, .75, 1
        var seen = new List<(int Index, float Value)>();
        using var replacement = torch.zeros(1, 4, 2, 2);
        using var solution = FlowSampling.Run(Constant, noise, new FlowSamplingOptions
        {
            Grid = grid,
            StepCallback = step =>
            {
                seen.Add((step.Index, step.Latents[0, 0, 0, 0].item<float>()));
                return step.Index == 1 ? replacement : null;           // after step 1 (t = 0.5): restart from zeros
            },
            KeepTrajectory = true,
        });
        Assert.Equal([(0, 5.25f), (1, 5.5f), (2, 0.25f), (3, 0.5f)], seen);   // the callback reads what it replaced
        Assert.Equal(0.5f, solution.Final[0, 0, 0, 0].item<float>());          // 0 + (1 − 0.5), not 5 + 1
        Assert.Equal(0f, solution.Trajectory![2].abs().max().item<float>());    // the trajectory records the replaced state
        Assert.Equal(0f, replacement.abs().max().item<float>());               // the caller's tensor is copied, not modified

        using var plain = FlowSampling.Run(Constant, noise, new FlowSamplingOptions { Grid = grid });
        Assert.Equal(6f, plain.Final[0, 0, 0, 0].item<float>());
    }

    [Fact]
    public void A_multistep_solver_continues_from_replaced_latents_and_dopri5_refuses_them()
    {
        using var noise = torch.full(new long[] { 1, 2, 2 }, 3f);
        var grid = TimeGrid.ForSolver(OdeMethod.DpmSolver, 4, 6.0);
        using var replacement = torch.zeros(1, 2, 2);
        using var replaced = FlowSampling.Run(Constant, noise, new FlowSamplingOptions
        {
            Grid = grid, Solver = OdeSolver.Create(OdeMethod.DpmSolver), StepCallback = s => s.Index == 0 ? replacement : null,
        });
        using var plain = FlowSampling.Run(Constant, noise, new FlowSamplingOptions { Grid = grid, Solver = OdeSolver.Create(OdeMethod.DpmSolver) });
        Assert.Equal(4, replaced.FunctionEvaluations);                                   // one model call per step
        Assert.True((replaced.Final - plain.Final).abs().min().item<float>() > 1f, "replacing the latents must change the sample");

        var ex = Assert.Throws<NotSupportedException>(() => FlowSampling.Run(Constant, noise, new FlowSamplingOptions
        {
            Grid = TimeGrid.Create(3), Solver = OdeSolver.Create(OdeMethod.Dopri5), StepCallback = _ => replacement,
        }));
        Assert.Contains("dopri5", ex.Message);
        var shape = Assert.Throws<InvalidOperationException>(() => FlowSampling.Run(Constant, noise, new FlowSamplingOptions
        {
            Grid = TimeGrid.Create(3), StepCallback = _ => torch.zeros(2, 2),
        }));
        Assert.Contains("shape", shape.Message);
    }

    [Fact]
    public void Step_fraction_truncation_gets_the_step_index_from_the_loop_for_two_call_solvers()
    {
        // diffusers cfg_trunc_ratio 0.5 over 4 Heun steps: steps 0 and 1 guided (both calls), steps 2 and 3 not.
        var rows = new List<long>();
        GuidanceModel model = (x, t, batch) => { rows.Add(x.shape[0]); return torch.ones_like(x); };
        using var noise = torch.zeros(1, 4, 2, 2);
        using var solution = FlowSampling.Run(model, noise, new FlowSamplingOptions
        {
            Grid = TimeGrid.Create(5), Solver = OdeSolver.Create(OdeMethod.Heun),
            Guidance = new GuidanceOptions { Scale = 4, TruncateAfterStepFraction = 0.5 },
        });
        Assert.Equal(new long[] { 2, 2, 2, 2, 1, 1, 1, 1 }, rows);
    }

    [Fact]
    public void The_DiT_path_runs_the_contract_with_captions_and_validates_rows()
    {
        using var model = new NextDiT(new NextDiTConfig { PatchSize = 2, InChannels = 4, Dim = 32, Layers = 1, Heads = 2, KvHeads = 1, CaptionDim = 8, MultipleOf = 16 });
        foreach (var p in model.parameters()) using (torch.no_grad()) p.normal_(0, 0.05);
        model.eval();
        using var noise = torch.randn(1, 4, 4, 4, generator: new torch.Generator(3));
        using var captions = new CaptionEmbeddings(torch.randn(2, 3, 8, generator: new torch.Generator(4)), torch.ones(2, 3));
        var options = new FlowSamplingOptions { Grid = TimeGrid.Create(4, 4.0), Guidance = new GuidanceOptions { Scale = 3 } };
        using var solution = FlowSampling.Run(model, noise, DiTConditioning.FromCaptions(captions), options);

        // The same run by hand: upstream's doubled layout through the guidance API and the plain forward.
        using var doubled = FlowSampling.Run((x, t, rows) => model.Forward(x, t, ClassifierFreeGuidance.RowsFor(captions.Features, rows),
            ClassifierFreeGuidance.RowsFor(captions.Mask, rows)), noise, options with { DoubledState = true });
        TensorAssert.Close(doubled.Final, solution.Final, atol: 1e-6, rtol: 0, what: "plain vs doubled layout");
        Assert.Equal(noise.shape, solution.Final.shape);

        using var one = new CaptionEmbeddings(captions.Features.narrow(0, 0, 1), captions.Mask.narrow(0, 0, 1));
        var rowsError = Assert.Throws<ArgumentException>(() => FlowSampling.Run(model, noise, DiTConditioning.FromCaptions(one), options));
        Assert.Contains("negative prompts", rowsError.Message);
        using var unguided = FlowSampling.Run(model, noise, DiTConditioning.FromCaptions(one), options with { Guidance = null });
        Assert.Equal(3, unguided.FunctionEvaluations);
    }
}
