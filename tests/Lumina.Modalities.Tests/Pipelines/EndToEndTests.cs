using Lumina.Testing;
using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>
/// Tiny random Lumina-Next models saved in both folder layouts, loaded through <c>FromPretrained(folder)</c>, generating
/// real PNGs.
/// </summary>
public sealed class EndToEndTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task BothLayoutsLoadAndGiveIdenticalPixels()
    {
        using var diffusers = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var original = await folders.OriginalBuilder().BuildAsync();
        var request = TinyLuminaNextFolders.Request();
        using var a = await diffusers.GenerateAsync(request);
        using var b = await original.GenerateAsync(request);

        var png = a.ToPng(0);
        using var decoded = Image.Load<Rgb24>(png);
        Assert.Equal((32, 48), (decoded.Width, decoded.Height));
        Assert.Equal(Pixels(a.Images[0]), Pixels(b.Images[0]));
        Assert.Equal(Pixels(a.Images[0]), Pixels(decoded));
        Assert.True(Pixels(decoded).Distinct().Count() > 10, "a random model should still give a non-constant image");
    }

    [Fact]
    public async Task SameSeedRepeatsBitIdenticallyAndOtherSeedsDiffer()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var first = await pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: 11));
        using var again = await pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: 11));
        using var other = await pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: 12));
        Assert.Equal(first.ToPng(0), again.ToPng(0));
        Assert.NotEqual(Pixels(first.Images[0]), Pixels(other.Images[0]));
    }

    [Fact]
    public async Task ImagesOfABatchEqualTheSameSeedsAlone()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSolver(OdeMethod.Euler).BuildAsync();
        var request = new TextToImageRequest(["a blue square", "a green dot"]) { Width = 32, Height = 32, Seed = 100, NumInferenceSteps = 2, ImagesPerPrompt = 2 };
        using var batch = await pipe.GenerateAsync(request);
        Assert.Equal(4, batch.Images.Count);
        Assert.Equal([100L, 101, 102, 103], batch.Metadata.Select(m => m.Seed));
        using var third = await pipe.GenerateAsync(new TextToImageRequest("a green dot") { Width = 32, Height = 32, Seed = 102, NumInferenceSteps = 2 });
        Assert.Equal(Pixels(third.Images[0]), Pixels(batch.Images[2]));
        Assert.NotEqual(Pixels(batch.Images[2]), Pixels(batch.Images[3]));
    }

    [Fact]
    public async Task PngRecordsHowToReproduceTheImage()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers)
            .WithSolver(OdeMethod.Midpoint, steps: 3).WithTimeShift(2.5).WithGuidanceScale(3).BuildAsync();
        using var result = await pipe.GenerateAsync(new TextToImageRequest("一只猫 🐱 at dusk") { Width = 32, Height = 32, Seed = 42, NegativePrompt = "blurry" });
        using var loaded = Image.Load<Rgb24>(result.ToPng(0));
        var meta = GenerationMetadata.ReadFrom(loaded);
        Assert.NotNull(meta);
        Assert.Equal(new GenerationMetadata("一只猫 🐱 at dusk", "blurry", 42, 3, OdeMethod.Midpoint, 2.5, 3, Path.GetFullPath(folders.Diffusers), 32, 32), meta);

        // the metadata alone reproduces the image.
        using var again = await pipe.GenerateAsync(new TextToImageRequest(meta!.Prompt)
        {
            NegativePrompt = meta.NegativePrompt, Seed = meta.Seed, NumInferenceSteps = meta.Steps, Solver = meta.Solver,
            TimeShift = meta.TimeShift, GuidanceScale = meta.GuidanceScale, Width = meta.Width, Height = meta.Height,
        });
        Assert.Equal(result.ToPng(0), again.ToPng(0));
    }

    [Fact]
    public async Task ProgressReachesTheSamplerAndCancellationStopsIt()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var reports = new List<GenerationProgress>();
        using var cts = new CancellationTokenSource();
        var progress = new Sync<GenerationProgress>(p =>
        {
            lock (reports) reports.Add(p);
            if (p.Stage == GenerationStage.Sampling && p.Step == 2) cts.Cancel();
        });
        var request = TinyLuminaNextFolders.Request() with { NumInferenceSteps = 5 };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipe.GenerateAsync(request, progress, cts.Token));
        Assert.Contains(reports, p => p.Stage == GenerationStage.EncodingPrompt);
        Assert.Equal([1, 2], reports.Where(p => p.Stage == GenerationStage.Sampling).Select(p => p.Step));
        Assert.All(reports.Where(p => p.Stage == GenerationStage.Sampling), p => Assert.Equal(5, p.TotalSteps));

        // the pipeline is still usable after a cancelled call.
        using var ok = await pipe.GenerateAsync(TinyLuminaNextFolders.Request());
        Assert.Single(ok.Images);
    }

    [Fact]
    public async Task ConcurrentCallsAreSerializedAndGiveTheSequentialResults()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithSolver(OdeMethod.Euler).BuildAsync();
        var seeds = new long[] { 1, 2, 3, 4 };
        var tasks = seeds.Select(s => Task.Run(() => pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: s)))).ToArray();
        var concurrent = await Task.WhenAll(tasks);
        try
        {
            foreach (var (seed, result) in seeds.Zip(concurrent))
            {
                using var alone = await pipe.GenerateAsync(TinyLuminaNextFolders.Request(seed: seed));
                Assert.Equal(alone.ToPng(0), result.ToPng(0));
            }
        }
        finally
        {
            foreach (var r in concurrent) r.Dispose();
        }
    }

    [Fact]
    public async Task DisposeFreesTheModelsAndLaterCallsThrow()
    {
        var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        var dit = ((NextDiT)pipe.Transformer);
        var weight = dit.parameters().First();
        pipe.Dispose();
        Assert.Throws<InvalidOperationException>(() => weight.shape); // the native tensor is gone
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pipe.GenerateAsync(TinyLuminaNextFolders.Request()));
        pipe.Dispose(); // idempotent
    }

    [Fact]
    public async Task SizesTheModelCannotTileFailBeforeAnyModelRuns()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        Assert.Equal(4, pipe.SizeMultiple); // the tiny VAE downsamples by 2, the DiT patches by 2
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => pipe.GenerateAsync(TinyLuminaNextFolders.Request() with { Width = 1000 }));
        Assert.Equal("Width", e.ParamName);
    }

    [Fact]
    public async Task FolderInNeitherLayoutFailsWithAMessageThatSaysWhatToDo()
    {
        using var empty = new Lumina.Testing.TempFolder();
        var e = await Assert.ThrowsAsync<LuminaException>(() => LuminaPipeline.TextToImage().FromPretrained(empty.Path).BuildAsync());
        Assert.Contains("model_index.json", e.Message);
        var path = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => LuminaPipeline.TextToImage().FromPretrained("/no/such/folder").BuildAsync());
        Assert.Contains("/no/such/folder", path.Message);
    }

    [Fact]
    public async Task RepoIdsAndMissingComponentsGoThroughTheResolver()
    {
        var asked = new List<(string, ModelComponent)>();
        ModelResolver resolver = (reference, component, _) =>
        {
            asked.Add((reference, component));
            return Task.FromResult(component switch
            {
                ModelComponent.Pipeline => folders.Original,
                ModelComponent.TextEncoder => folders.GemmaFolder,
                _ => folders.VaeFolder,
            });
        };
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained("Alpha-VLLM/Lumina-Next-SFT@abc123")
            .WithTransformerConfig(TinyLuminaNextFolders.DiT).WithModelResolver(resolver).BuildAsync();
        Assert.Equal([("Alpha-VLLM/Lumina-Next-SFT@abc123", ModelComponent.Pipeline), ("google/gemma-2b", ModelComponent.TextEncoder),
            ("stabilityai/sdxl-vae", ModelComponent.Vae)], asked);
        Assert.Equal("Alpha-VLLM/Lumina-Next-SFT@abc123", pipe.ModelId);

        // the diffusers layout carries its components: only the pipeline repo is resolved.
        asked.Clear();
        using var diffusers = await LuminaPipeline.TextToImage().FromPretrained("Alpha-VLLM/Lumina-Next-SFT-diffusers")
            .WithModelResolver((r, c, _) => { asked.Add((r, c)); return Task.FromResult(folders.Diffusers); }).BuildAsync();
        Assert.Equal([("Alpha-VLLM/Lumina-Next-SFT-diffusers", ModelComponent.Pipeline)], asked);
    }

    [Fact]
    public async Task OriginalLayoutWithoutTextEncoderNamesTheSetting()
    {
        var e = await Assert.ThrowsAsync<LuminaException>(() => LuminaPipeline.TextToImage().FromPretrained(folders.Original)
            .WithTransformerConfig(TinyLuminaNextFolders.DiT)
            .WithLoadOptions(new ModelLoadOptions { TransformerConfig = TinyLuminaNextFolders.DiT, DefaultTextEncoderRepo = "", DefaultVaeRepo = "" })
            .BuildAsync());
        Assert.Contains(nameof(ModelLoadOptions.TextEncoderPath), e.Message);
    }

    internal static byte[] Pixels(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
