using Lumina.Modalities.Tests.Pipelines;
using Lumina.Sampling;
using System.Text.Json.Nodes;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Solvers;
using Lumina.Testing;
using Lumina.Video;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;

namespace Lumina.Modalities.Tests.Video;

/// <summary>
/// A tiny random video Next-DiT in the diffusers-like folder layout (transformer/config.json with "video": true), with
/// the Gemma text encoder, tokenizer and VAE of <see cref="TinyLuminaNextFolders"/>.
/// </summary>
public sealed class TinyLuminaVideoFolder : IDisposable
{
    public static readonly NextDiTConfig DiT = TinyLuminaNextFolders.DiT with { Dim = 48, Video = true }; // head width 24: 3-D RoPE needs % 6

    private readonly TempFolder temp = new("lumina-tiny-video");

    public TinyLuminaVideoFolder()
    {
        Images = new TinyLuminaNextFolders();
        Folder = Directory.CreateDirectory(Path.Combine(temp.Path, "video")).FullName;
        using var generator = new TorchSharp.torch.Generator(112026);
        using var dit = TinyLuminaNextFolders.Randomize(new NextDiT(DiT), generator, 0.3);
        var index = new DiffusersModelIndex
        {
            PipelineClass = "LuminaText2VideoPipeline",
            Components =
            [
                new("text_encoder", new DiffusersComponent("transformers", "GemmaModel")),
                new("tokenizer", new DiffusersComponent("transformers", "GemmaTokenizerFast")),
                new("transformer", new DiffusersComponent("diffusers", NextDiTConfig.DiffusersClassName)),
                new("vae", new DiffusersComponent("diffusers", "AutoencoderKL")),
            ],
        };
        DiffusersFolder.Write(Folder, index, new Dictionary<string, Action<string>>
        {
            ["text_encoder"] = DiffusersFolder.CopyFrom(Path.Combine(Images.Diffusers, "text_encoder")),
            ["tokenizer"] = DiffusersFolder.CopyFrom(Path.Combine(Images.Diffusers, "tokenizer")),
            ["vae"] = DiffusersFolder.CopyFrom(Path.Combine(Images.Diffusers, "vae")),
            ["transformer"] = dir =>
            {
                NextDiTCheckpoint.SaveDiffusers(dit, Path.Combine(dir, "diffusion_pytorch_model.safetensors"));
                File.WriteAllText(Path.Combine(dir, "config.json"), DiT.ToJson(16));
            },
        });
    }

    /// <summary>The image folders the components came from (an image model, for refusal tests).</summary>
    public TinyLuminaNextFolders Images { get; }

    /// <summary>The video model folder.</summary>
    public string Folder { get; }

    public static TextToVideoRequest Request(long seed = 5, int frames = 3) => new("a paper boat drifting down a stream")
    {
        Frames = frames, Width = 32, Height = 48, Seed = seed, NumInferenceSteps = 2,
    };

    public void Dispose()
    {
        Images.Dispose();
        temp.Dispose();
    }
}

public sealed class TextToVideoTests(TinyLuminaVideoFolder model) : IClassFixture<TinyLuminaVideoFolder>
{
    [Fact]
    public async Task TheVideoPipelineTakesAnyContractTransformerThatSupportsVideo_AndRefusesAnImageOnlyOne()
    {
        using var video = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).BuildAsync();
        Assert.True(video.Transformer.SupportsVideo);
        using var image = await LuminaPipeline.TextToImage().FromPretrained(model.Images.Diffusers).BuildAsync();
        Assert.False(image.Transformer.SupportsVideo);
        var e = Assert.Throws<ArgumentException>(() => new TextToVideoPipeline(image.Transformer, image.CaptionEncoder, image.LatentSpace));
        Assert.Equal("transformer", e.ParamName);
        Assert.Contains("video", e.Message);
    }

    [Fact]
    public async Task FolderLoadsAndGivesFramesOfTheRequestedSize()
    {
        using var pipe = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).BuildAsync();
        Assert.True(((NextDiT)pipe.Transformer).Config.Video);
        using var video = await pipe.GenerateAsync(TinyLuminaVideoFolder.Request(frames: 3));
        Assert.Equal(3, video.Frames.Count);
        Assert.All(video.Frames, f => Assert.Equal((32, 48), (f.Width, f.Height)));
        Assert.True(EndToEndTests.Pixels(video.Frames[0]).Distinct().Count() > 10, "a random model should still give non-constant frames");
        Assert.NotEqual(EndToEndTests.Pixels(video.Frames[0]), EndToEndTests.Pixels(video.Frames[2]));

        // Frames round-trip as PNG with their metadata; the GIF holds every frame.
        using var temp = new TempFolder("lumina-video-out");
        var paths = video.SavePngFrames(temp.Path);
        Assert.Equal(3, paths.Count);
        using var loaded = Image.Load<Rgb24>(paths[1]);
        Assert.Equal(EndToEndTests.Pixels(video.Frames[1]), EndToEndTests.Pixels(loaded));
        var meta = GenerationMetadata.ReadFrom(loaded);
        Assert.Equal((5L, 32, 48, "a paper boat drifting down a stream"), (meta!.Seed, meta.Width, meta.Height, meta.Prompt));
        var text = loaded.Metadata.GetPngMetadata().TextData.ToDictionary(t => t.Keyword, t => t.Value);
        Assert.Equal(("1", "3"), (text["frame"], text["frames"]));
        using var gif = Image.Load<Rgb24>(video.ToGif(frameDelayMilliseconds: 100));
        Assert.Equal((3, 32, 48), (gif.Frames.Count, gif.Width, gif.Height));
    }

    [Fact]
    public async Task SameSeedRepeatsBitIdenticallyAndOtherSeedsDiffer()
    {
        using var pipe = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).WithSolver(OdeMethod.Euler).BuildAsync();
        using var first = await pipe.GenerateAsync(TinyLuminaVideoFolder.Request(seed: 9));
        using var again = await pipe.GenerateAsync(TinyLuminaVideoFolder.Request(seed: 9));
        using var other = await pipe.GenerateAsync(TinyLuminaVideoFolder.Request(seed: 10));
        for (var f = 0; f < 3; f++)
        {
            Assert.Equal(EndToEndTests.Pixels(first.Frames[f]), EndToEndTests.Pixels(again.Frames[f]));
            Assert.NotEqual(EndToEndTests.Pixels(first.Frames[f]), EndToEndTests.Pixels(other.Frames[f]));
        }
    }

    [Fact]
    public async Task OneFrameVideoIsOneImage()
    {
        using var pipe = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).BuildAsync();
        using var video = await pipe.GenerateAsync(TinyLuminaVideoFolder.Request(frames: 1));
        var frame = Assert.Single(video.Frames);
        Assert.Equal((32, 48), (frame.Width, frame.Height));
        using var gif = Image.Load<Rgb24>(video.ToGif());
        Assert.Single(gif.Frames);
    }

    [Fact]
    public async Task StepCachingReachesTheVideoForward()
    {
        using var pipe = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).WithSolver(OdeMethod.Euler, steps: 6).BuildAsync();
        var request = TinyLuminaVideoFolder.Request(frames: 2) with { NumInferenceSteps = null };
        using var plain = await pipe.GenerateAsync(request);
        using var exact = await pipe.GenerateAsync(request with { StepCache = new StepCacheOptions { Threshold = 0 } });
        using var cached = await pipe.GenerateAsync(request with { StepCache = new StepCacheOptions { Threshold = 1e9 } });
        Assert.Equal(new ModelEvaluations(6, 0), plain.Evaluations);
        Assert.Equal(new ModelEvaluations(6, 0), exact.Evaluations);
        Assert.Equal(EndToEndTests.Pixels(plain.Frames[1]), EndToEndTests.Pixels(exact.Frames[1]));
        Assert.True(cached.Evaluations.Skipped > 0 && cached.Evaluations.Total == 6, $"{cached.Evaluations}");
        Assert.Equal(2, cached.Frames.Count);
    }

    [Fact]
    public async Task WithoutASizeFramesHaveTheModelsTrainingSize()
    {
        // transformer/config.json says sample_size 16; the tiny VAE downsamples by 2.
        using var pipe = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).BuildAsync();
        using var video = await pipe.GenerateAsync(TinyLuminaVideoFolder.Request(frames: 1) with { Width = null, Height = null });
        Assert.Equal((32, 32), (video.Frames[0].Width, video.Frames[0].Height));
        Assert.Equal((32, 32), (video.Metadata.Width, video.Metadata.Height));
    }

    [Fact]
    public async Task ProgressReachesTheSamplerAndCancellationStopsIt()
    {
        using var pipe = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).WithSolver(OdeMethod.Euler).BuildAsync();
        var reports = new List<GenerationProgress>();
        using (await pipe.GenerateAsync(TinyLuminaVideoFolder.Request(frames: 2), new ListProgress(reports))) { }
        Assert.Equal([1, 2], reports.Where(r => r.Stage == GenerationStage.Sampling).Select(r => r.Step));
        Assert.Contains(reports, r => r.Stage == GenerationStage.Decoding);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipe.GenerateAsync(TinyLuminaVideoFolder.Request(), cancellationToken: cts.Token));
    }

    [Fact]
    public async Task OneFrameVideoEqualsTheTextToImageOutputOfTheSameModel()
    {
        // A video model reads an image as a 1-frame video (3-D RoPE at frame 0, no [nextframe] token), and both
        // pipelines draw the same noise from the same seed, so the video folder also runs as a text-to-image model.
        using var video = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).WithSolver(OdeMethod.Euler, steps: 2).BuildAsync();
        using var image = await LuminaPipeline.TextToImage().FromPretrained(model.Folder).WithSolver(OdeMethod.Euler, steps: 2).BuildAsync();
        using var clip = await video.GenerateAsync(TinyLuminaVideoFolder.Request(seed: 4, frames: 1));
        using var still = await image.GenerateAsync(new TextToImageRequest("a paper boat drifting down a stream") { Width = 32, Height = 48, Seed = 4 });
        var a = EndToEndTests.Pixels(clip.Frames[0]);
        var b = EndToEndTests.Pixels(still.Images[0]);
        Assert.True(a.Zip(b, (x, y) => Math.Abs(x - y)).Max() <= 1, "pixels may differ by one rounding step at most");
    }

    [Fact]
    public async Task ImageModelsAreRefusedWithAHint()
    {
        var e = await Assert.ThrowsAsync<LuminaException>(() => LuminaPipeline.TextToVideo().FromPretrained(model.Images.Diffusers).BuildAsync());
        Assert.Contains("TextToImage", e.Message);
    }

    public static TheoryData<string, TextToVideoRequest> InvalidRequests() => new()
    {
        { "Prompts", TinyLuminaVideoFolder.Request() with { Prompts = null! } },
        { "Frames", TinyLuminaVideoFolder.Request() with { Frames = 0 } },
        { "Frames", TinyLuminaVideoFolder.Request() with { Frames = TextToVideoRequest.MaxFrames + 1 } },
        { "Width", TinyLuminaVideoFolder.Request() with { Width = 1000 } },
        { "Height", TinyLuminaVideoFolder.Request() with { Height = 0 } },
        { "NumInferenceSteps", TinyLuminaVideoFolder.Request() with { NumInferenceSteps = 0 } },
        { "GuidanceScale", TinyLuminaVideoFolder.Request() with { GuidanceScale = double.NaN } },
        { "TimeShift", TinyLuminaVideoFolder.Request() with { TimeShift = -1 } },
        { "Solver", TinyLuminaVideoFolder.Request() with { Solver = (OdeMethod)99 } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task InvalidRequestsNameTheFieldBeforeAnyModelRuns(string field, TextToVideoRequest request)
    {
        Assert.Equal(field, Assert.ThrowsAny<ArgumentException>(request.Validate).ParamName);
        using var pipe = await LuminaPipeline.TextToVideo().FromPretrained(model.Folder).BuildAsync();
        var reports = new List<GenerationProgress>();
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => pipe.GenerateAsync(request, new ListProgress(reports)));
        Assert.Equal(field, e.ParamName);
        Assert.Empty(reports);
    }

    private sealed class ListProgress(List<GenerationProgress> reports) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => reports.Add(value);
    }
}
