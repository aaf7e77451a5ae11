using Lumina.Testing;
using Lumina.Sampling;
using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>
/// Step caching (TeaCache idea) through the real pipeline on tiny random Lumina-Next folders: threshold 0 changes
/// nothing, large thresholds skip every call outside the first and last steps, a skipped call rebuilds the output from
/// the cached residual, and the counts reach the result and the progress reports.
/// </summary>
public sealed class StepCacheTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    [Theory]
    [InlineData(OdeMethod.Midpoint)]
    [InlineData(OdeMethod.Euler)]
    public async Task ThresholdZeroIsBitIdenticalToNoCaching(OdeMethod solver)
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSolver(solver, steps: 5).BuildAsync();
        var request = TinyLuminaNextFolders.Request() with { NumInferenceSteps = 5 };
        using var plain = await pipe.GenerateAsync(request);
        using var cached = await pipe.GenerateAsync(request with { StepCache = new StepCacheOptions { Threshold = 0 } });
        Assert.Equal(plain.ToPng(0), cached.ToPng(0));
        var calls = 5 * (solver == OdeMethod.Midpoint ? 2 : 1);
        Assert.Equal(new ModelEvaluations(calls, 0), plain.Evaluations.Single());
        Assert.Equal(new ModelEvaluations(calls, 0), cached.Evaluations.Single());

        // bit-identical latents too, not just after 8-bit quantisation.
        using var noise = randn([1, 4, 12, 8], generator: new Generator(3));
        using var captions = pipe.CaptionEncoder.Encode(["a red circle", ""]);
        var settings = pipe.Settings with { NumInferenceSteps = 5 };
        using var a = pipe.SampleLatents(noise, captions, settings);
        using var b = pipe.SampleLatents(noise, captions, settings with { StepCache = new StepCacheOptions { Threshold = 0 } });
        Assert.True(Same(a, b), "threshold 0 must not change a single bit");
    }

    [Theory]
    [InlineData(OdeMethod.Midpoint, 6, 2)]
    [InlineData(OdeMethod.Euler, 6, 1)]
    [InlineData(OdeMethod.Heun, 4, 2)]
    public async Task LargeThresholdSkipsAllButTheFirstAndLastStepsAndStaysFinite(OdeMethod solver, int steps, int callsPerStep)
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSolver(solver, steps).BuildAsync();
        var request = TinyLuminaNextFolders.Request() with { NumInferenceSteps = steps, StepCache = new StepCacheOptions { Threshold = 1e9 } };
        var reports = new List<GenerationProgress>();
        using var result = await pipe.GenerateAsync(request, new Sync<GenerationProgress>(p => { lock (reports) reports.Add(p); }));
        var evaluations = result.Evaluations.Single();
        Assert.Equal(steps * callsPerStep, evaluations.Total);
        Assert.Equal(2 * callsPerStep, evaluations.Evaluated); // the first and the last step always evaluate
        Assert.Equal((double)steps / 2, evaluations.ReductionRatio, 12);
        Assert.Equal((32, 48), (result.Images[0].Width, result.Images[0].Height));

        var sampling = reports.Where(p => p.Stage == GenerationStage.Sampling).ToList();
        Assert.Equal(steps, sampling.Count);
        Assert.Equal(new ModelEvaluations(callsPerStep, 0), sampling[0].Evaluations);
        Assert.Equal(evaluations, sampling[^1].Evaluations);
        Assert.Equal(Enumerable.Range(1, steps).Select(s => s * callsPerStep), sampling.Select(p => p.Evaluations.Total));

        using var noise = randn([1, 4, 12, 8], generator: new Generator(3));
        using var captions = pipe.CaptionEncoder.Encode(["a red circle", ""]);
        var counter = new ModelEvaluationCounter();
        var settings = pipe.Settings with { NumInferenceSteps = steps, StepCache = request.StepCache };
        using var solution = FlowSampling.Run(pipe.Transformer, noise, DiTConditioning.FromCaptions(captions), new FlowSamplingOptions
        {
            Grid = Lumina.Schedulers.TimeGrid.ForSolver(settings.Solver, steps, settings.TimeShift),
            Solver = OdeSolver.Create(settings.Solver),
            Guidance = new Lumina.Guidance.GuidanceOptions { Scale = settings.GuidanceScale },
            StepCache = settings.StepCache,
            Evaluations = counter,
        }, new DiTForwardOptions { ScaleWatershed = settings.ScaleWatershed, ProportionalAttention = settings.ProportionalAttention });
        var latents = solution.Final;
        using var plain = pipe.SampleLatents(noise, captions, settings with { StepCache = null });
        Assert.Equal(noise.shape, latents.shape);
        Assert.True(latents.isfinite().all().item<bool>());
        Assert.Equal(evaluations, counter.Current);
        Assert.False(Same(latents, plain), "skipping calls must change the trajectory of a random model");
    }

    [Fact]
    public void ASkippedGuidedCallRebuildsTheFullOutputFromTheCachedResidual()
    {
        // With the same input twice, the second call skips (zero change) and must give what running the blocks gives,
        // for both halves of a [cond; uncond] batch with different captions.
        using var generator = new Generator(5);
        using var dit = TinyLuminaNextFolders.Randomize(new NextDiT(TinyLuminaNextFolders.DiT), generator, 0.3);
        dit.eval();
        using var noGrad = no_grad();
        using var x = randn([2, 4, 8, 12], generator: generator);
        using var t = full([2], 0.4f);
        using var caption = randn([2, 5, 32], generator: generator);
        using var mask = ones([2, 5], dtype: ScalarType.Int64);
        mask[1, 3] = tensor(0L);
        mask[1, 4] = tensor(0L);
        using var expected = dit.Forward(x, t, caption, mask);

        using var cache = new StepCache(new StepCacheOptions { Threshold = 1e-4 }); // any change above 0.01 % evaluates
        var options = new NextDiTForwardOptions { BlockCache = cache };
        using var first = dit.Forward(x, t, caption, mask, options);
        Assert.Equal((1, 0), (cache.Evaluated, cache.Skipped));
        Assert.True(Same(first, expected), "an evaluated call is the plain forward");
        using var second = dit.Forward(x, t, caption, mask, options);
        Assert.Equal((1, 1), (cache.Evaluated, cache.Skipped));
        Lumina.Testing.TensorAssert.Close(expected, second, what: "skipped call");

        // a different timestep moves the modulated input past the threshold: the blocks run again.
        using var later = full([2], 0.9f);
        using var third = dit.Forward(x, later, caption, mask, options);
        using var thirdExpected = dit.Forward(x, later, caption, mask);
        Assert.Equal((2, 1), (cache.Evaluated, cache.Skipped));
        Assert.True(Same(third, thirdExpected));
    }

    [Fact]
    public void ChangesAccumulateSinceTheLastEvaluationAndForcedCallsEvaluate()
    {
        using var cache = new StepCache(new StepCacheOptions { Threshold = 0.12 });
        IBlockStackCache policy = cache;
        using var m0 = ones([1, 3, 4]);
        var scales = new[] { 1.0, 1.05, 1.05 * 1.05, 1.05 * 1.05 * 1.05, 1.05 * 1.05 * 1.05 * 1.05 };
        var decisions = new List<bool>();
        var stored = double.NaN;
        foreach (var s in scales)
        {
            using var m = m0 * s;
            var residual = policy.ReusableResidual(m);
            decisions.Add(residual is not null);
            if (residual is null)
            {
                using var input = full([1, 3, 4], 2f);
                using var output = full([1, 3, 4], (float)(2 + s));
                policy.Store(input, output);
                stored = s;
            }
            else Assert.Equal(stored, residual.mean().item<float>(), 5); // output − input of the last evaluation
        }
        // 1st forced; then changes 0.05, 0.10 (skip, skip), 0.15 ≥ 0.12 (evaluate, reset), 0.05 (skip).
        Assert.Equal([false, true, true, false, true], decisions);
        Assert.Equal((2, 3), (cache.Evaluated, cache.Skipped));

        cache.ForceNextEvaluation();
        using var same = m0 * scales[^1];
        Assert.Null(policy.ReusableResidual(same)); // zero change, but forced
        Assert.Equal(0, cache.AccumulatedChange);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.1)]
    [InlineData(double.PositiveInfinity)]
    public async Task BadThresholdsFailAtTheBoundaryAndNameTheField(double threshold)
    {
        var bad = new StepCacheOptions { Threshold = threshold };
        var request = TinyLuminaNextFolders.Request() with { StepCache = bad };
        Assert.Equal("StepCache", Assert.ThrowsAny<ArgumentException>(request.Validate).ParamName);
        Assert.Equal("StepCache", Assert.ThrowsAny<ArgumentException>(() => new SamplingSettings { StepCache = bad }.Validate()).ParamName);
        Assert.Equal("options", Assert.ThrowsAny<ArgumentException>(() => new StepCache(bad)).ParamName);
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSteps(2).BuildAsync();
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => pipe.GenerateAsync(request));
        Assert.Equal("StepCache", e.ParamName);
        Assert.Contains("Threshold", e.Message);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
