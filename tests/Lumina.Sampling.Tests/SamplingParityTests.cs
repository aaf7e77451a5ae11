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
/// Every out.* and traj.* of the golden part 'sampling': upstream lumina_next_t2i transport → torchdiffeq.odeint
/// with the tiny NextDiT's forward_with_cfg, here our solvers driving <see cref="GuidedVelocity"/> over the
/// strictly loaded NextDiT.
/// </summary>
public sealed class SamplingParityTests : IDisposable
{
    private readonly NextDiT _model;
    private readonly SafetensorsFile _cases;

    private readonly ITestOutputHelper _output;

    public SamplingParityTests(ITestOutputHelper output)
    {
        _output = output;
        var c = Golden.Json("nextdit")["config"]!;   // sampling.json: "same tiny NextDiT as part 'nextdit'"
        _model = new NextDiT(new NextDiTConfig
        {
            PatchSize = (int)c["patch_size"]!, InChannels = (int)c["in_channels"]!, Dim = (int)c["dim"]!,
            Layers = (int)c["n_layers"]!, Heads = (int)c["n_heads"]!, KvHeads = (int?)c["n_kv_heads"],
            MultipleOf = (int)c["multiple_of"]!, NormEps = (double)c["norm_eps"]!, LearnSigma = (bool)c["learn_sigma"]!,
            QkNorm = (bool)c["qk_norm"]!, CaptionDim = (int)c["cap_feat_dim"]!, ScaleFactor = (double)c["scale_factor"]!,
        });
        _model.LoadSafetensors(Golden.WeightsPath("sampling")); // strict
        _model.eval();
        _cases = Golden.OpenCases("sampling");
    }

    public void Dispose()
    {
        _model.Dispose();
        _cases.Dispose();
    }

    public static TheoryData<string> Runs()
    {
        var data = new TheoryData<string>();
        foreach (var run in Golden.Json("sampling")["runs"]!.AsObject()) data.Add(run.Key);
        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Trajectory_output_and_model_calls_match_upstream(string name)
    {
        var json = Golden.Json("sampling");
        var run = json["runs"]![name]!;
        var kwargs = json["model_kwargs"]!;
        var method = OdeSolver.ParseMethod(name.Split('.')[0]);
        var points = (int)run["grid_points"]!;
        var shift = (double?)run["time_shifting_factor"];

        using var scope = torch.NewDisposeScope();
        var z = _cases.Read("z");
        var cap = _cases.Read("cap_feats");
        var mask = _cases.Read("cap_mask");
        var forward = new NextDiTForwardOptions
        {
            ScaleFactor = (double)kwargs["scale_factor"]!,
            ScaleWatershed = (double)kwargs["scale_watershed"]!,
            BaseSequenceLength = (bool)kwargs["proportional_attn"]! ? (int)kwargs["base_seqlen"]! : null,
        };
        var velocity = GuidedVelocity.ForDoubledBatch(
            (x, t, _) => _model.Forward(x, t, cap, mask, forward),
            new GuidanceOptions { Scale = (double)kwargs["cfg_scale"]! });

        OdeSolution solution;
        using (torch.no_grad())
            solution = OdeSolver.Create(method).Solve(velocity, z, TimeGrid.Create(points, shift), new SolveOptions { KeepTrajectory = true });
        using (solution)
        {
            Assert.Equal((int)run["nfe"]!, solution.FunctionEvaluations);
            var traj = TensorAssert.Close(_cases.Read($"traj.{name}"), solution.Trajectory!, atol: 1e-4, rtol: 1e-4, what: $"traj.{name}");
            var final = TensorAssert.Close(_cases.Read($"out.{name}"), solution.Final, atol: 1e-4, rtol: 1e-4, what: $"out.{name}");
            _output.WriteLine($"{name}: nfe {solution.FunctionEvaluations}, max |Δ| traj {traj:E2}, out {final:E2}");
        }
    }
}
