using Lumina.Pipelines;
using Lumina.Solvers;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>Every validated field of the requests, settings and builder fails fast and names itself.</summary>
public sealed class RequestValidationTests
{
    private static readonly TextToImageRequest Good = new("a lighthouse at dusk") { Width = 64, Height = 32 };

    public static TheoryData<string, TextToImageRequest> BadRequests() => new()
    {
        { "Width", Good with { Width = 1000 } },
        { "Width", Good with { Width = 0 } },
        { "Width", Good with { Width = -16 } },
        { "Width", Good with { Width = 16384 } },
        { "Height", Good with { Height = 1000 } },
        { "Height", Good with { Height = 8 } },
        { "NumInferenceSteps", Good with { NumInferenceSteps = 0 } },
        { "NumInferenceSteps", Good with { NumInferenceSteps = -3 } },
        { "NumInferenceSteps", Good with { NumInferenceSteps = 100_000 } },
        { "Solver", Good with { Solver = (OdeMethod)42 } },
        { "TimeShift", Good with { TimeShift = 0 } },
        { "TimeShift", Good with { TimeShift = double.NaN } },
        { "TimeShift", Good with { TimeShift = double.PositiveInfinity } },
        { "GuidanceScale", Good with { GuidanceScale = double.NaN } },
        { "GuidanceScale", Good with { GuidanceScale = -1 } },
        { "GuidanceScale", Good with { GuidanceScale = double.NegativeInfinity } },
        { "ImagesPerPrompt", Good with { ImagesPerPrompt = 0 } },
        { "ImagesPerPrompt", Good with { ImagesPerPrompt = 65 } },
        { "ScaleFactor", Good with { ScaleFactor = 0 } },
        { "ScaleFactor", Good with { ScaleFactor = double.NaN } },
        { "ScaleWatershed", Good with { ScaleWatershed = 1.5 } },
        { "ScaleWatershed", Good with { ScaleWatershed = -0.1 } },
        { "Prompts", new TextToImageRequest(Array.Empty<string>()) },
        { "Prompts", new TextToImageRequest((IReadOnlyList<string>)null!) },
        { "Prompts", new TextToImageRequest(["ok", null!]) },
        { "Prompts", new TextToImageRequest((string)null!) },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void BadRequestNamesTheField(string field, TextToImageRequest request)
    {
        var e = Assert.ThrowsAny<ArgumentException>(request.Validate);
        Assert.Equal(field, e.ParamName);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void GoodRequestsPass()
    {
        Good.Validate();
        new TextToImageRequest("") { Width = 4096, Height = 1024, NumInferenceSteps = 1, GuidanceScale = 0, TimeShift = 1, ScaleWatershed = 0 }.Validate();
        TextToImagePresets.Panorama("a mountain range").Validate();
        new TextToImageRequest(Enumerable.Repeat("x", 8).ToArray()) { ImagesPerPrompt = 8 }.Validate();
    }

    [Fact]
    public void TooManyImagesInTotalIsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(new TextToImageRequest(Enumerable.Repeat("x", 9).ToArray()) { ImagesPerPrompt = 8 }.Validate);
        Assert.Equal("ImagesPerPrompt", e.ParamName);
    }

    public static TheoryData<string, SamplingSettings> BadSettings() => new()
    {
        { "Solver", new SamplingSettings { Solver = (OdeMethod)(-1) } },
        { "NumInferenceSteps", new SamplingSettings { NumInferenceSteps = 0 } },
        { "TimeShift", new SamplingSettings { TimeShift = -4 } },
        { "GuidanceScale", new SamplingSettings { GuidanceScale = double.NaN } },
        { "NegativePrompt", new SamplingSettings { NegativePrompt = null! } },
        { "ScaleFactor", new SamplingSettings { ScaleFactor = -2 } },
        { "ScaleWatershed", new SamplingSettings { ScaleWatershed = double.NaN } },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void BadSettingsNameTheField(string field, SamplingSettings settings)
    {
        var e = Assert.ThrowsAny<ArgumentException>(settings.Validate);
        Assert.Equal(field, e.ParamName);
    }

    [Fact]
    public async Task BuilderChecksEachArgumentAtOnce()
    {
        var b = LuminaPipeline.TextToImage();
        Assert.Equal("steps", Assert.ThrowsAny<ArgumentException>(() => b.WithSolver(OdeMethod.Euler, steps: 0)).ParamName);
        Assert.Equal("solver", Assert.ThrowsAny<ArgumentException>(() => b.WithSolver((OdeMethod)99)).ParamName);
        Assert.Contains("Unknown ODE method 'leapfrog'", Assert.ThrowsAny<ArgumentException>(() => b.WithSolver("leapfrog")).Message);
        Assert.Equal("shift", Assert.ThrowsAny<ArgumentException>(() => b.WithTimeShift(double.NaN)).ParamName);
        Assert.Equal("scale", Assert.ThrowsAny<ArgumentException>(() => b.WithGuidanceScale(double.NaN)).ParamName);
        Assert.Equal("steps", Assert.ThrowsAny<ArgumentException>(() => b.WithSteps(-1)).ParamName);
        Assert.ThrowsAny<ArgumentException>(() => b.FromPretrained(" "));
        Assert.ThrowsAny<ArgumentException>(() => b.WithTransformerPreset("NextDiT-9B"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => LuminaPipeline.TextToImage().BuildAsync());
        // a failed With… leaves the builder unchanged.
        Assert.Equal(TextToImagePresets.LuminaNext, b.Settings);
        Assert.Equal(OdeMethod.Rk4, b.WithSolver("RK4", 12).Settings.Solver);
        Assert.Equal(12, b.Settings.NumInferenceSteps);
    }

    [Fact]
    public void PresetsMatchTheUpstreamDemos()
    {
        Assert.Equal((OdeMethod.Midpoint, 30, 4.0, 4.0, true), Tuple(TextToImagePresets.LuminaNext));
        Assert.Equal((OdeMethod.Euler, 30, 4.0, 4.0, true), Tuple(TextToImagePresets.LuminaT2I));
        Assert.Equal(0.3, TextToImagePresets.Extrapolation.ScaleWatershed);
        Assert.Equal(2.0, TextToImagePresets.Extrapolation.ScaleFactorFor(2048, 2048));
        Assert.Null(TextToImagePresets.Extrapolation.ScaleFactorFor(1024, 1024));
        Assert.Null(TextToImagePresets.LuminaNext.ScaleFactorFor(2048, 2048));
        Assert.Equal(2.0, TextToImagePresets.Panorama("x").Width / 2048.0);
        Assert.Equal(1024, TextToImagePresets.Panorama("x").Height);
        Assert.Same(TextToImagePresets.LuminaT2I, TextToImagePresets.ByName("Lumina-T2I"));
        Assert.Throws<ArgumentException>(() => TextToImagePresets.ByName("sdxl"));
    }

    private static (OdeMethod, int, double, double, bool) Tuple(SamplingSettings s) =>
        (s.Solver, s.NumInferenceSteps, s.TimeShift, s.GuidanceScale, s.ProportionalAttention);
}
