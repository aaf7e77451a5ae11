using Lumina.Testing;
using Lumina.Sampling;
using Lumina.Pipelines;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>Compositional generation through the Lumina-Next pipeline on tiny random models loaded from disk.</summary>
public sealed class CompositionalTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    private static CompositionalRequest Request(long seed = 7) => new([["a full moon", "a small river"], ["an old house", "a cherry tree"]])
    {
        Width = 32, Height = 32, Seed = seed, NumInferenceSteps = 2,
    };

    [Fact]
    public async Task GridRequestGivesADecodablePngThatRepeatsPerSeed()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var first = await pipe.GenerateCompositionalAsync(Request(seed: 11));
        using var again = await pipe.GenerateCompositionalAsync(Request(seed: 11));
        using var other = await pipe.GenerateCompositionalAsync(Request(seed: 12));
        var png = first.ToPng(0);
        using var decoded = Image.Load<Rgb24>(png);
        Assert.Equal((32, 32), (decoded.Width, decoded.Height));
        Assert.True(EndToEndTests.Pixels(decoded).Distinct().Count() > 10, "a random model should still give a non-constant image");
        Assert.Equal(png, again.ToPng(0));
        Assert.NotEqual(EndToEndTests.Pixels(first.Images[0]), EndToEndTests.Pixels(other.Images[0]));

        var text = decoded.Metadata.GetPngMetadata().TextData.ToDictionary(t => t.Keyword, t => t.Value);
        Assert.Equal("2x2", text["grid"]);
        Assert.Equal("""[["a full moon","a small river"],["an old house","a cherry tree"]]""", text["regions"]);
        Assert.Equal("a full moon a small river an old house a cherry tree", text["prompt"]); // upstream's global caption
        Assert.Equal(11L, first.Metadata[0].Seed);
    }

    [Fact]
    public async Task EveryRegionWithTheGlobalPromptMatchesTextToImageWithoutGuidance()
    {
        // Without guidance only the conditional half matters, and with every region reading the global prompt the
        // compositional forward is the plain forward; the images agree up to float rounding.
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSolver(OdeMethod.Euler, steps: 3).BuildAsync();
        const string prompt = "a lighthouse at dusk";
        using var plain = await pipe.GenerateAsync(new TextToImageRequest(prompt) { Width = 32, Height = 32, Seed = 3, GuidanceScale = 1 });
        using var composed = await pipe.GenerateCompositionalAsync(new CompositionalRequest([[prompt, prompt], [prompt, prompt]])
        {
            GlobalPrompt = prompt, Width = 32, Height = 32, Seed = 3, GuidanceScale = 1,
        });
        var a = EndToEndTests.Pixels(plain.Images[0]);
        var b = EndToEndTests.Pixels(composed.Images[0]);
        Assert.True(a.Zip(b, (x, y) => Math.Abs(x - y)).Max() <= 1, "pixels may differ by one rounding step at most");
    }

    [Fact]
    public async Task ChangingOneRegionPromptChangesMostlyThatRegionsPixels()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSolver(OdeMethod.Euler, steps: 2).BuildAsync();
        var request = Request(seed: 30) with { Width = 64, Height = 64 };
        using var before = await pipe.GenerateCompositionalAsync(request with { GlobalPrompt = "a landscape" });
        using var after = await pipe.GenerateCompositionalAsync(request with
        {
            GlobalPrompt = "a landscape", Regions = [["a full moon", "a red sports car"], ["an old house", "a cherry tree"]],
        });
        var a = EndToEndTests.Pixels(before.Images[0]);
        var b = EndToEndTests.Pixels(after.Images[0]);
        double inside = 0, outside = 0;
        for (var y = 0; y < 64; y++)
            for (var x = 0; x < 64; x++)
                for (var c = 0; c < 3; c++)
                {
                    var i = (y * 64 + x) * 3 + c;
                    if (y < 32 && x >= 32) inside += Math.Abs(a[i] - b[i]);   // region 1: top right
                    else outside += Math.Abs(a[i] - b[i]);
                }
        inside /= 32 * 32 * 3;
        outside /= 64 * 64 * 3 - 32 * 32 * 3;
        Assert.True(inside > 0, "the changed prompt must change its region");
        Assert.True(inside > 2 * outside, $"mean change inside the region {inside:F2} should dominate the change outside {outside:F2}");
    }

    [Fact]
    public async Task StepCachingReachesTheCompositionalForward()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSolver(OdeMethod.Euler, steps: 6).BuildAsync();
        using var plain = await pipe.GenerateCompositionalAsync(Request() with { NumInferenceSteps = null });
        using var cached = await pipe.GenerateCompositionalAsync(Request() with { NumInferenceSteps = null, StepCache = new StepCacheOptions { Threshold = 1e9 } });
        Assert.Equal(new ModelEvaluations(6, 0), plain.Evaluations[0]);
        Assert.True(cached.Evaluations[0].Skipped > 0 && cached.Evaluations[0].Total == 6, $"{cached.Evaluations[0]}");
    }

    [Fact]
    public async Task SeveralImagesUseConsecutiveSeeds()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var batch = await pipe.GenerateCompositionalAsync(Request(seed: 20) with { ImagesPerPrompt = 2, Regions = [["left", "right"]], Height = 16 });
        using var second = await pipe.GenerateCompositionalAsync(Request(seed: 21) with { Regions = [["left", "right"]], Height = 16 });
        Assert.Equal([20L, 21], batch.Metadata.Select(m => m.Seed));
        Assert.Equal(EndToEndTests.Pixels(second.Images[0]), EndToEndTests.Pixels(batch.Images[1]));
    }

    public static TheoryData<string, CompositionalRequest> InvalidRequests() => new()
    {
        { "Regions", Request() with { Regions = null! } },
        { "Regions", Request() with { Regions = [] } },
        { "Regions", Request() with { Regions = [["a", "b"], ["c"]] } },
        { "Regions", Request() with { Regions = [["a"], []] } },
        { "Regions", Request() with { Regions = [["a", null!]] } },
        { "Regions", Request() with { Regions = [Enumerable.Repeat("x", 65).ToArray()] } },
        { "Width", Request() with { Width = 48 } },                 // 2 columns need a multiple of 32
        { "Height", Request() with { Height = 16 } },               // 2 rows need a multiple of 32
        { "Width", Request() with { Width = 1000 } },
        { "NumInferenceSteps", Request() with { NumInferenceSteps = 0 } },
        { "GuidanceScale", Request() with { GuidanceScale = double.NaN } },
        { "TimeShift", Request() with { TimeShift = 0 } },
        { "Solver", Request() with { Solver = (OdeMethod)99 } },
        { "ImagesPerPrompt", Request() with { ImagesPerPrompt = 0 } },
        { "ScaleWatershed", Request() with { ScaleWatershed = 2 } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task InvalidRequestsNameTheFieldBeforeAnyModelRuns(string field, CompositionalRequest request)
    {
        Assert.Equal(field, Assert.ThrowsAny<ArgumentException>(request.Validate).ParamName);
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var progress = new List<GenerationProgress>();
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => pipe.GenerateCompositionalAsync(request, new Progress(progress)));
        Assert.Equal(field, e.ParamName);
        Assert.Empty(progress);
    }

    [Fact]
    public async Task FlagDiTPipelinesRefuseCompositionalRequests()
    {
        using var t2i = new TinyLuminaT2IFolders();
        using var pipe = await t2i.Builder().BuildAsync();
        await Assert.ThrowsAsync<NotSupportedException>(() => pipe.GenerateCompositionalAsync(Request()));
    }

    private sealed class Progress(List<GenerationProgress> reports) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => reports.Add(value);
    }
}
