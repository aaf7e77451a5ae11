using System.Globalization;
using Lumina.Pipelines;
using Lumina.Schedulers;
using Lumina.Solvers;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Families;

/// <summary>
/// A diffusers folder whose <c>scheduler_config.json</c> sets <c>use_dynamic_shifting</c> samples on the grid diffusers'
/// <c>calculate_shift</c> + <c>FlowMatchEulerDiscreteScheduler.time_shift</c> give for the image's token count. The
/// expected grids are computed here from those formulas (μ = m·tokens + b between (base_image_seq_len, base_shift) and
/// (max_image_seq_len, max_shift); exponential σ' = e^μ / (e^μ + (1/σ − 1)), linear σ' = μ / (μ + (1/σ − 1)); t = 1 − σ),
/// not from the library's grid code.
/// </summary>
public sealed class DynamicShiftingTests(TinyLumina2 tiny) : IClassFixture<TinyLumina2>
{
    private const int Steps = 5;
    private const double BaseShift = 0.5, MaxShift = 1.15;
    private const int BaseSeq = 256, MaxSeq = 4096;

    [Theory]
    [InlineData("exponential", 16, 32, TimeSchedule.Upstream)]
    [InlineData("linear", 16, 32, TimeSchedule.Upstream)]
    [InlineData("exponential", 64, 64, TimeSchedule.Upstream)]
    [InlineData("exponential", 32, 48, TimeSchedule.DiffusersFlowMatch)]
    public async Task AFolderWithDynamicShifting_SamplesOnTheGridOfItsImageTokenCount(string shiftType, int latentHeight, int latentWidth, TimeSchedule schedule)
    {
        using var temp = new TempFolder("lumina2-dynamic");
        var folder = Path.Combine(temp.Path, "dynamic");
        Lumina2FamilyTests.CopyTree(tiny.Diffusers, folder);
        File.WriteAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"), string.Create(CultureInfo.InvariantCulture,
            $$"""{"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 6.0, "use_dynamic_shifting": true, "base_shift": {{BaseShift}}, "max_shift": {{MaxShift}}, "base_image_seq_len": {{BaseSeq}}, "max_image_seq_len": {{MaxSeq}}, "time_shift_type": "{{shiftType}}"}"""));
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folder).BuildAsync();
        Assert.True(pipe.Settings.DynamicShifting?.UseDynamicShifting);
        var settings = pipe.Settings with { Solver = OdeMethod.Euler, NumInferenceSteps = Steps, Schedule = schedule };

        var tokens = latentHeight / pipe.Transformer.PatchSize * (latentWidth / pipe.Transformer.PatchSize);
        var m = (MaxShift - BaseShift) / (MaxSeq - BaseSeq);
        var mu = tokens * m + (BaseShift - m * BaseSeq);
        double Shifted(double sigma) => sigma == 0 ? 0 : shiftType == "exponential" ? Math.Exp(mu) / (Math.Exp(mu) + (1 / sigma - 1)) : mu / (mu + (1 / sigma - 1));
        // The flow times after each step: upstream's grid is σ = 1 − k/N (k = 1…N); diffusers' Lumina2Pipeline hands the
        // scheduler σ = linspace(1, 1/N, N) and ends at σ = 0.
        var sigmas = schedule == TimeSchedule.Upstream
            ? Enumerable.Range(1, Steps).Select(k => 1 - k / (double)Steps)
            : Enumerable.Range(1, Steps - 1).Select(k => 1 + (1.0 / Steps - 1) * k / (Steps - 1)).Append(0.0);
        var expected = sigmas.Select(s => 1 - Shifted(s)).ToArray();

        var times = new List<double>();
        using var generator = new Generator(3);
        using var noise = randn([1, pipe.Transformer.LatentChannels, latentHeight, latentWidth], generator: generator);
        using var captions = pipe.CaptionEncoder.Encode(["a lighthouse", ""]);
        using var latents = pipe.SampleLatents(noise, captions, settings, new Recorder(times));

        Assert.Equal(Steps, times.Count);
        for (var i = 0; i < Steps; i++) Assert.Equal(expected[i], times[i], 1e-6);
        // Not the static shift 6 the same file names (which diffusers ignores when use_dynamic_shifting is set).
        Assert.True(Math.Abs((1 - 6 * (1 - 1.0 / Steps) / (1 + 5 * (1 - 1.0 / Steps))) - times[0]) > 1e-3);
    }

    [Fact]
    public async Task ARequestsOwnShift_ReplacesTheDynamicShift()
    {
        using var temp = new TempFolder("lumina2-dynamic-override");
        var folder = Path.Combine(temp.Path, "dynamic");
        Lumina2FamilyTests.CopyTree(tiny.Diffusers, folder);
        File.WriteAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"),
            """{"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 6.0, "use_dynamic_shifting": true}""");
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folder).BuildAsync();
        var resolved = new TextToImageRequest("x") { TimeShift = 3 }.Resolve(pipe.Settings);
        Assert.Null(resolved.DynamicShifting);
        Assert.Equal(3, resolved.TimeShiftFor(1024));
        // Without a request shift, the shift follows the size: e^μ at 4096 tokens is e^max_shift.
        Assert.Equal(Math.Exp(1.15), new TextToImageRequest("x").Resolve(pipe.Settings).TimeShiftFor(4096), 1e-12);
    }

    private sealed class Recorder(List<double> times) : IProgress<SamplingProgress>
    {
        public void Report(SamplingProgress value) => times.Add(value.Time);
    }
}
