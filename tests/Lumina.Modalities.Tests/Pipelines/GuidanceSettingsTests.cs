using Lumina.Testing;
using Lumina.Guidance;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Schedulers;
using Lumina.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>
/// The guidance and system-prompt fields of <see cref="SamplingSettings"/> and <see cref="TextToImageRequest"/>:
/// validated naming the field, and each one reaching the sampling loop (checked on the tiny Lumina-Next pipeline by
/// runs that must agree or differ).
/// </summary>
public sealed class GuidanceSettingsTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    public static TheoryData<string, SamplingSettings> BadSettings => new()
    {
        { nameof(SamplingSettings.GuidanceChannels), new SamplingSettings { GuidanceChannels = (GuidanceChannels)7 } },
        { nameof(SamplingSettings.GuidanceTruncateAtTime), new SamplingSettings { GuidanceTruncateAtTime = 1.5 } },
        { nameof(SamplingSettings.GuidanceTruncateAtTime), new SamplingSettings { GuidanceTruncateAtTime = double.NaN } },
        { nameof(SamplingSettings.GuidanceTruncateAfterStepFraction), new SamplingSettings { GuidanceTruncateAfterStepFraction = -0.1 } },
        { nameof(SamplingSettings.GuidanceClipToConditionalNorm), new SamplingSettings { GuidanceClipToConditionalNorm = -1 } },
        { nameof(SamplingSettings.SystemPrompt), new SamplingSettings { SystemPrompt = "photoreal" } },
        { nameof(SamplingSettings.SystemPrompt), new SamplingSettings { SystemPrompt = null! } },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void BadSettingsNameTheField(string field, SamplingSettings settings)
    {
        var e = Assert.ThrowsAny<ArgumentException>(settings.Validate);
        Assert.Equal(field, e.ParamName);
    }

    public static TheoryData<string, TextToImageRequest> BadRequests => new()
    {
        { nameof(TextToImageRequest.GuidanceChannels), new TextToImageRequest("x") { GuidanceChannels = (GuidanceChannels)(-1) } },
        { nameof(TextToImageRequest.GuidanceTruncateAtTime), new TextToImageRequest("x") { GuidanceTruncateAtTime = -0.5 } },
        { nameof(TextToImageRequest.GuidanceTruncateAfterStepFraction), new TextToImageRequest("x") { GuidanceTruncateAfterStepFraction = 2 } },
        { nameof(TextToImageRequest.GuidanceClipToConditionalNorm), new TextToImageRequest("x") { GuidanceClipToConditionalNorm = double.PositiveInfinity } },
        { nameof(TextToImageRequest.SystemPrompt), new TextToImageRequest("x") { SystemPrompt = "Real photo" } },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void BadRequestsNameTheField(string field, TextToImageRequest request)
    {
        var e = Assert.ThrowsAny<ArgumentException>(request.Validate);
        Assert.Equal(field, e.ParamName);
    }

    [Fact]
    public void TheLumina2PresetsAreUpstreamsScriptAndDemo()
    {
        var s = TextToImagePresets.Lumina2;
        Assert.Equal((OdeMethod.Midpoint, 18, 6.0, 4.0, "real"), (s.Solver, s.NumInferenceSteps, s.TimeShift, s.GuidanceScale, s.SystemPrompt));
        Assert.Equal((1024, 1024), (new TextToImageRequest("x").Resolve(s).Width, new TextToImageRequest("x").Resolve(s).Height));
        Assert.Equal((GuidanceChannels.All, (double?)null, (double?)null, 1.0, false),
            (s.GuidanceChannels, s.GuidanceTruncateAtTime, s.GuidanceTruncateAfterStepFraction, s.GuidanceClipToConditionalNorm, s.GuidanceRescaleToConditionalNorm));
        Assert.Equal(Lumina2SystemPrompt.Real, s.SystemPromptText);

        var demo = TextToImagePresets.Lumina2Demo;
        Assert.Equal(s with { GuidanceTruncateAtTime = 0.25 }, demo);
        var diffusers = TextToImagePresets.Lumina2Diffusers;
        Assert.Equal((OdeMethod.Euler, TimeSchedule.DiffusersFlowMatch, true, 1.0, 0.0),
            (diffusers.Solver, diffusers.Schedule, diffusers.GuidanceRescaleToConditionalNorm, diffusers.GuidanceTruncateAfterStepFraction, diffusers.GuidanceClipToConditionalNorm));
        Assert.Same(demo, TextToImagePresets.ByName("Lumina2-Demo"));
        Assert.Same(s, TextToImagePresets.ByName("lumina2"));
        Assert.All(TextToImagePresets.Names, n => TextToImagePresets.ByName(n).Validate());

        // Lumina-Next keeps its upstream rule: only channels 0..2 are guided, no system prompt.
        Assert.Equal((GuidanceChannels.LuminaFirstThree, "none", 0.0), (TextToImagePresets.LuminaNext.GuidanceChannels, TextToImagePresets.LuminaNext.SystemPrompt,
            TextToImagePresets.LuminaNext.GuidanceClipToConditionalNorm));
    }

    [Fact]
    public void RequestFieldsOverrideTheSettings()
    {
        var request = new TextToImageRequest("x")
        {
            GuidanceChannels = GuidanceChannels.All, GuidanceTruncateAtTime = 0.3, GuidanceTruncateAfterStepFraction = 0.5,
            GuidanceClipToConditionalNorm = 2, GuidanceRescaleToConditionalNorm = true, SystemPrompt = "4grid",
        };
        var resolved = request.Resolve(TextToImagePresets.LuminaNext);
        Assert.Equal((GuidanceChannels.All, (double?)0.3, (double?)0.5, 2.0, true, "4grid"),
            (resolved.GuidanceChannels, resolved.GuidanceTruncateAtTime, resolved.GuidanceTruncateAfterStepFraction, resolved.GuidanceClipToConditionalNorm,
                resolved.GuidanceRescaleToConditionalNorm, resolved.SystemPrompt));
        Assert.Equal(TextToImagePresets.Lumina2 with { Width = 1024, Height = 1024 }, new TextToImageRequest("x").Resolve(TextToImagePresets.Lumina2));
    }

    [Fact]
    public async Task EachGuidanceFieldReachesTheSamplingLoop()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var captions = pipe.CaptionEncoder.Encode(["a red circle", ""]);
        using var noise = randn([1, 4, 8, 8], generator: new Generator(5));
        var baseline = TextToImagePresets.LuminaNext with { Solver = OdeMethod.Euler, NumInferenceSteps = 3, GuidanceScale = 4 };
        Tensor Run(SamplingSettings s) => pipe.SampleLatents(noise, captions, s);

        using var guided = Run(baseline);
        // Truncated at every time = the conditional half alone = scale 1 (which guides to cond exactly on every channel).
        using var truncatedByTime = Run(baseline with { GuidanceTruncateAtTime = 0 });
        using var truncatedBySteps = Run(baseline with { GuidanceTruncateAfterStepFraction = 0 });
        using var scaleOne = Run(baseline with { GuidanceScale = 1 });
        Assert.True(allclose(truncatedByTime, scaleOne, rtol: 1e-4, atol: 1e-5));
        Assert.True(allclose(truncatedBySteps, scaleOne, rtol: 1e-4, atol: 1e-5));
        Assert.False(allclose(guided, scaleOne, rtol: 1e-3, atol: 1e-4));

        // Each other field changes the run; a clip above any ratio reached changes nothing.
        using var allChannels = Run(baseline with { GuidanceChannels = GuidanceChannels.All });
        using var clipped = Run(baseline with { GuidanceClipToConditionalNorm = 1 });
        using var neverClipped = Run(baseline with { GuidanceClipToConditionalNorm = 1e6 });
        using var rescaled = Run(baseline with { GuidanceRescaleToConditionalNorm = true });
        Assert.False(allclose(guided, allChannels, rtol: 1e-3, atol: 1e-4));
        Assert.False(allclose(guided, clipped, rtol: 1e-3, atol: 1e-4));
        Assert.False(allclose(guided, rescaled, rtol: 1e-3, atol: 1e-4));
        Assert.True(allclose(guided, neverClipped, rtol: 0, atol: 0));
    }
}
