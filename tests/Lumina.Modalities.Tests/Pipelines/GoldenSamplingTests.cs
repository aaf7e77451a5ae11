using Lumina.Sampling;
using Lumina.Models.TextEncoders;
using Lumina.Models.DiT;
using Lumina.Guidance;
using Lumina.Pipelines;
using Lumina.Schedulers;
using Lumina.Solvers;
using Lumina.Tensors;
using Lumina.Testing;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>
/// The sampling loop (<see cref="FlowSampling"/>, which <see cref="TextToImagePipeline"/> runs) on the golden
/// tiny Next-DiT with the golden caption features reproduces upstream <c>transport.sample_ode</c> (golden part
/// "sampling": torchdiffeq euler and midpoint, cfg 4, proportional attention with base_seqlen 32).
/// </summary>
public sealed class GoldenSamplingTests(ITestOutputHelper output) : IDisposable
{
    private readonly NextDiT transformer = Load();
    private readonly SafetensorsFile cases = Golden.OpenCases("sampling");

    private static NextDiT Load()
    {
        var c = Golden.Json("nextdit")["config"]!;
        var config = new NextDiTConfig
        {
            PatchSize = (int)c["patch_size"]!, InChannels = (int)c["in_channels"]!, Dim = (int)c["dim"]!,
            Layers = (int)c["n_layers"]!, Heads = (int)c["n_heads"]!, KvHeads = (int?)c["n_kv_heads"],
            MultipleOf = (int)c["multiple_of"]!, NormEps = (double)c["norm_eps"]!, LearnSigma = (bool)c["learn_sigma"]!,
            QkNorm = (bool)c["qk_norm"]!, CaptionDim = (int)c["cap_feat_dim"]!, ScaleFactor = (double)c["scale_factor"]!,
        };
        var model = new NextDiT(config);
        model.LoadSafetensors(Golden.WeightsPath("sampling")); // strict
        var kwargs = Golden.Json("sampling")["model_kwargs"]!;
        model.BaseSequenceLength = (int)kwargs["base_seqlen"]!;
        model.eval();
        return model;
    }

    [Theory]
    [InlineData("euler.n11.shiftNone", OdeMethod.Euler, 10, 1.0)]
    [InlineData("euler.n11.shift4.0", OdeMethod.Euler, 10, 4.0)]
    [InlineData("midpoint.n6.shift4.0", OdeMethod.Midpoint, 5, 4.0)]
    public void SamplingLoopReproducesUpstream(string run, OdeMethod solver, int steps, double shift)
    {
        var kwargs = Golden.Json("sampling")["model_kwargs"]!;
        var info = Golden.Json("sampling")["runs"]![run]!;
        Assert.Equal(steps + 1, (int)info["grid_points"]!);
        using var z = cases.Read("z");
        using var feats = cases.Read("cap_feats");
        using var mask = cases.Read("cap_mask");
        using var expected = cases.Read($"out.{run}");
        // upstream repeats z twice for [cond; uncond]; the pipeline takes the single noise and doubles it itself.
        TensorAssert.Equal(z.narrow(0, 0, 1), z.narrow(0, 1, 1), "z halves");
        var settings = new SamplingSettings
        {
            Solver = solver, NumInferenceSteps = steps, TimeShift = shift, GuidanceScale = (double)kwargs["cfg_scale"]!,
            ProportionalAttention = (bool)kwargs["proportional_attn"]!, ScaleWatershed = (double)kwargs["scale_watershed"]!,
        };
        var evaluations = 0;
        var progress = new SyncProgress(p => evaluations = p.FunctionEvaluations);
        using var captions = new CaptionEmbeddings(feats.alias(), mask.alias());
        // The pipelines' run of the one sampling loop: the solver's grid, guidance at the settings' scale, the DiT contract.
        using var solution = FlowSampling.Run(transformer, z.narrow(0, 0, 1).contiguous(), DiTConditioning.FromCaptions(captions), new FlowSamplingOptions
        {
            Grid = TimeGrid.ForSolver(settings.Solver, settings.NumInferenceSteps, settings.TimeShift),
            Solver = OdeSolver.Create(settings.Solver),
            Guidance = new GuidanceOptions { Scale = settings.GuidanceScale },
            Progress = progress,
        }, new DiTForwardOptions
        {
            ScaleFactor = (double)kwargs["scale_factor"]!, ScaleWatershed = settings.ScaleWatershed, ProportionalAttention = settings.ProportionalAttention,
        }, CancellationToken.None);
        var actual = solution.Final;
        Assert.Equal((int)info["nfe"]!, evaluations);
        var error = TensorAssert.Close(expected.narrow(0, 0, 1), actual, atol: 1e-4, rtol: 0, what: run);
        output.WriteLine($"{run}: max |diff| = {error:E2} over {evaluations} model calls");
    }

    public void Dispose()
    {
        transformer.Dispose();
        cases.Dispose();
    }

    private sealed class SyncProgress(Action<SamplingProgress> report) : IProgress<SamplingProgress>
    {
        public void Report(SamplingProgress value) => report(value);
    }
}
