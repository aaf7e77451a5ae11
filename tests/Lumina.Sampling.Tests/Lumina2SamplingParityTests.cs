using System.Globalization;
using Lumina.Checkpoints;
using Lumina.Guidance;
using Lumina.Models.DiT;
using Lumina.Schedulers;
using Lumina.Solvers;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using Xunit.Abstractions;

namespace Lumina.Sampling.Tests;

/// <summary>
/// Lumina-Image 2.0 sampling through the public API with the strictly loaded tiny transformer: upstream's
/// <c>forward_with_cfg</c> cases (golden 'lumina2' <c>out.cfg.*</c>), upstream's DPM-Solver++ runs ('lumina2_dpm'), and
/// diffusers' <c>Lumina2Pipeline</c> runs ('lumina2_diffusers' <c>out.pipe.*</c>), each guided by <see cref="GuidanceOptions"/>
/// named for what it does.
/// </summary>
public sealed class Lumina2SamplingParityTests(ITestOutputHelper output)
{
    private static Lumina2Transformer Load(Lumina2Config config, string part)
    {
        var model = new Lumina2Transformer(config);
        var result = Lumina2Checkpoint.Load(model, Golden.WeightsPath(part)); // strict
        Assert.True(result.Report.IsExactMatch);
        model.eval();
        return model;
    }

    /// <summary>The transformer as guidance sees it, with the caption rows of each call, recording the batch sizes.</summary>
    private static GuidanceModel Model(Lumina2Transformer model, torch.Tensor captions, torch.Tensor mask, List<long> batchSizes) => (x, t, batch) =>
    {
        batchSizes.Add(x.shape[0]);
        using var cap = ClassifierFreeGuidance.RowsFor(captions, batch);
        using var m = ClassifierFreeGuidance.RowsFor(mask, batch);
        return model.Forward(x, t, cap, m);
    };

    /// <summary>Upstream's <c>forward_with_cfg</c> keyword arguments as guidance options: all channels, strict time
    /// truncation <c>cfg_trunc</c> (default 100: never), the clip <c>renorm_cfg</c> (default 1).</summary>
    private static GuidanceOptions Upstream(System.Text.Json.Nodes.JsonNode kwargs)
    {
        var trunc = (double?)kwargs["cfg_trunc"] ?? 100.0;
        return new GuidanceOptions
        {
            Scale = (double)kwargs["cfg_scale"]!,
            Channels = GuidanceChannels.All,
            TruncateAtTime = trunc <= 1 ? trunc : null,
            ClipToConditionalNorm = (double?)kwargs["renorm_cfg"] ?? 1.0,
        };
    }

    public static TheoryData<string> CfgCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Json("lumina2")["cfg_cases"]!.AsObject()) data.Add(c.Key);
        return data;
    }

    [Theory]
    [MemberData(nameof(CfgCases))]
    public void Upstream_forward_with_cfg_cases_match_through_the_model(string name)
    {
        var info = Golden.Json("lumina2")["cfg_cases"]![name]!;
        using var model = Load(GoldenLumina2.UpstreamConfig(), "lumina2");
        using var cases = Golden.OpenCases("lumina2");
        using var scope = torch.NewDisposeScope();
        var batches = new List<long>();
        var guidance = Model(model, cases.Read("cap_feats"), cases.Read("cap_mask"), batches);
        var z = cases.Read("z_cfg");
        var t = cases.Read($"t.cfg.{name}")[0].item<float>();
        torch.Tensor got;
        using (torch.no_grad()) got = ClassifierFreeGuidance.DoubledBatchVelocity(guidance, torch.cat([z, z], 0), t, Upstream(info["kwargs"]!));
        Assert.Equal(info["forward_batch_sizes"]!.AsArray().Select(n => (long)n!), batches);
        var error = TensorAssert.Close(cases.Read($"out.cfg.{name}"), got, what: $"out.cfg.{name}");
        output.WriteLine($"out.cfg.{name}: max |Δ| {error:E2}");
    }

    public static TheoryData<string> DpmRuns()
    {
        var data = new TheoryData<string>();
        foreach (var r in Golden.Json("lumina2_dpm")["runs"]!.AsObject()) data.Add(r.Key);
        return data;
    }

    [Theory]
    [MemberData(nameof(DpmRuns))]
    public void Upstream_dpm_solver_runs_match_with_one_call_per_step(string name)
    {
        var run = Golden.Json("lumina2_dpm")["runs"]![name]!;
        using var model = Load(GoldenLumina2.UpstreamConfig(), "lumina2_dpm");
        using var cases = Golden.OpenCases("lumina2_dpm");
        using var scope = torch.NewDisposeScope();
        var batches = new List<long>();
        var times = new List<double>();
        var guided = GuidedVelocity.ForDoubledBatch(Model(model, cases.Read("cap_feats"), cases.Read("cap_mask"), batches), Upstream(run["model_kwargs"]!));
        VelocityFunction velocity = (x, t) =>
        {
            times.Add(t);
            return guided(x, t);
        };
        var steps = (int)run["model_calls"]!;
        OdeSolution solution;
        using (torch.no_grad())
            solution = OdeSolver.Create(OdeSolver.ParseMethod("dpm"))
                .Solve(velocity, cases.Read("z"), TimeGrid.ForSolver(OdeMethod.DpmSolver, steps, shift: 6.0), new SolveOptions { KeepTrajectory = true });
        using (solution)
        {
            Assert.Equal(steps, solution.FunctionEvaluations);
            Assert.Equal(run["forward_batch_sizes"]!.AsArray().Select(n => (long)n!), batches);
            Assert.Equal(run["model_times_t_upstream"]!.AsArray().Select(n => (double)n!), times);
            var traj = TensorAssert.Close(cases.Read($"traj.dpm.{name}"), solution.Trajectory!, atol: 1e-4, rtol: 1e-4, what: $"traj.dpm.{name}");
            var final = TensorAssert.Close(cases.Read($"out.dpm.{name}"), solution.Final, atol: 1e-4, rtol: 1e-4, what: $"out.dpm.{name}");
            output.WriteLine($"dpm {name}: calls {solution.FunctionEvaluations}, batches [{string.Join(", ", batches)}], max |Δ| traj {traj:E2}, out {final:E2}");
        }
    }

    public static TheoryData<string> PipelineRuns()
    {
        var data = new TheoryData<string>();
        foreach (var r in Golden.Json("lumina2_diffusers")["pipeline"]!["runs"]!.AsObject()) data.Add(r.Key);
        return data;
    }

    /// <summary>
    /// diffusers' <c>Lumina2Pipeline</c>: the scheduler's σ grid (shift 6), the transformer at t = 1 − σ, its output
    /// negated for the scheduler's Euler step (which makes it an Euler step in flow time), and diffusers' guidance:
    /// truncation by step fraction (<c>cfg_trunc_ratio</c>) and the per-row rescale (<c>cfg_normalization</c>).
    /// </summary>
    [Theory]
    [MemberData(nameof(PipelineRuns))]
    public void Diffusers_pipeline_runs_match_whole_trajectories(string name)
    {
        var json = Golden.Json("lumina2_diffusers");
        var run = json["pipeline"]!["runs"]![name]!;
        var call = (string)run["call"]!;
        double Arg(string key) => double.Parse(call.Split(key + "=")[1].Split(',')[0], CultureInfo.InvariantCulture);
        var steps = (int)Arg("num_inference_steps");
        var options = new GuidanceOptions
        {
            Scale = Arg("guidance_scale"),
            Channels = GuidanceChannels.All,
            TruncateAfterStepFraction = Arg("cfg_trunc_ratio"),
            RescaleToConditionalNorm = call.Contains("cfg_normalization=True", StringComparison.Ordinal),
        };
        using var model = Load(GoldenLumina2.DiffusersConfig(), "lumina2_diffusers");
        using var cases = Golden.OpenCases("lumina2_diffusers");
        using var scope = torch.NewDisposeScope();

        var grid = TimeGrid.ForSolver(OdeMethod.Euler, steps, (double)json["pipeline"]!["scheduler"]!["config"]!["shift"]!, schedule: TimeSchedule.DiffusersFlowMatch);
        var timesteps = cases.Read("pipe.timesteps").data<float>().ToArray();
        Assert.Equal(timesteps.Select(s => (double)(1f - s / 1000f)).Append(1.0), grid);

        var captions = torch.cat([cases.Read("pipe.prompt_embeds"), cases.Read("pipe.negative_prompt_embeds")], 0);
        var masks = torch.cat([cases.Read("pipe.prompt_attention_mask"), cases.Read("pipe.negative_prompt_attention_mask")], 0);
        var batches = new List<long>();
        var times = new List<double>();
        var guided = GuidedVelocity.ForBatch(Model(model, captions, masks, batches), options, grid);
        VelocityFunction velocity = (x, t) =>
        {
            times.Add(t);
            return guided(x, t);
        };
        OdeSolution solution;
        using (torch.no_grad())
            solution = new EulerSolver().Solve(velocity, cases.Read("pipe.latents"), grid, new SolveOptions { KeepTrajectory = true });
        using (solution)
        {
            // diffusers ran cond and uncond as separate batch-1 calls: a guided step here is one batch-2 call.
            var isCond = run["transformer_call_is_cond"]!.AsArray().Select(n => (bool)n!).ToList();
            var expectedBatches = new List<long>();
            for (var i = 0; i < isCond.Count; i++)
            {
                var guidedStep = i + 1 < isCond.Count && isCond[i] && !isCond[i + 1];
                expectedBatches.Add(guidedStep ? 2 : 1);
                if (guidedStep) i++;
            }
            Assert.Equal(expectedBatches, batches);
            var transformerTimes = run["transformer_timesteps"]!.AsArray().Select(n => (double)n!).Distinct().ToArray();
            Assert.Equal(transformerTimes.Length, times.Count);
            Assert.Equal(transformerTimes, times);
            var traj = TensorAssert.Close(cases.Read($"traj.pipe.{name}"), solution.Trajectory!.narrow(0, 1, steps), atol: 1e-4, rtol: 1e-4, what: $"traj.pipe.{name}");
            var final = TensorAssert.Close(cases.Read($"out.pipe.{name}.latent"), solution.Final, atol: 1e-4, rtol: 1e-4, what: $"out.pipe.{name}.latent");
            output.WriteLine($"pipe {name}: batches [{string.Join(", ", batches)}], max |Δ| traj {traj:E2}, out {final:E2}");
        }
    }

    /// <summary>diffusers' step with its negated velocity is the flow-time Euler step: x + (σ' − σ)·(−v) = x + (t' − t)·v.</summary>
    [Fact]
    public void Diffusers_negated_velocity_step_equals_the_flow_time_euler_step()
    {
        var scheduler = new FlowMatchEulerDiscreteScheduler(new FlowMatchSchedulerConfig { Shift = 6.0 });
        scheduler.SetTimesteps(Enumerable.Range(0, 6).Select(i => 1.0 - i * (5.0 / 6) / 5).ToArray());
        var grid = TimeGrid.ForSolver(OdeMethod.Euler, 6, 6.0, schedule: TimeSchedule.DiffusersFlowMatch);
        using var x = torch.randn(1, 16, 4, 4, generator: new torch.Generator(1));
        using var v = torch.randn(1, 16, 4, 4, generator: new torch.Generator(2));
        for (var i = 0; i < 6; i++)
        {
            using var negated = -v;
            using var viaScheduler = scheduler.Step(negated, i, x);
            using var viaFlow = x + v * (float)(grid[i + 1] - grid[i]);
            TensorAssert.Close(viaScheduler, viaFlow, atol: 1e-6, rtol: 1e-6, what: $"step {i}");
        }
    }
}
