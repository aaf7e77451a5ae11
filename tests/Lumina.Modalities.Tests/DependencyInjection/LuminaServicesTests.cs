#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI 10.x.
using Lumina.Modalities.Tests.Pipelines;
using Lumina.AI;
using Lumina.DependencyInjection;
using Lumina.Testing;
using Lumina.Pipelines;
using Lumina.Solvers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Modalities.Tests.DependencyInjection;

/// <summary><c>services.AddLumina()</c>: validated options, named pipelines, and the Microsoft.Extensions.AI adapter.</summary>
public sealed class LuminaServicesTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task ImageGeneratorFromServiceCollectionReturnsPngBytes()
    {
        var services = new ServiceCollection();
        services.AddLumina(o => o.Threads = 2)
            .AddTextToImage("next", o =>
            {
                o.Model = folders.Diffusers;
                o.Settings = TextToImagePresets.LuminaNext with { NumInferenceSteps = 2 };
            })
            .AddImageGenerator("next");
        await using var provider = services.BuildServiceProvider();
        var generator = provider.GetRequiredService<IImageGenerator>();

        var response = await generator.GenerateAsync(new ImageGenerationRequest("a lighthouse at dusk"), new ImageGenerationOptions
        {
            Count = 2,
            ImageSize = new System.Drawing.Size(48, 32),
            AdditionalProperties = new() { ["seed"] = 5, ["solver"] = "euler", ["guidance"] = 2.5 },
        });

        Assert.Equal(2, response.Contents.Count);
        var pngs = response.Contents.Cast<DataContent>().ToArray();
        Assert.All(pngs, c => Assert.Equal("image/png", c.MediaType));
        Assert.All(pngs, c => Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, c.Data.Slice(0, 4).ToArray()));
        using var image = Image.Load<Rgb24>(pngs[1].Data.Span);
        Assert.Equal((48, 32), (image.Width, image.Height));
        var meta = GenerationMetadata.ReadFrom(image)!;
        Assert.Equal((6L, OdeMethod.Euler, 2.5, 2), (meta.Seed, meta.Solver, meta.GuidanceScale, meta.Steps));
        Assert.Equal("Lumina.NET", generator.GetService<ImageGeneratorMetadata>()!.ProviderName);

        // the DI pipeline is the same one the fluent API builds: same pixels.
        using var direct = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var expected = await direct.GenerateAsync(new TextToImageRequest("a lighthouse at dusk")
        { Width = 48, Height = 32, Seed = 5, Solver = OdeMethod.Euler, GuidanceScale = 2.5, NumInferenceSteps = 2 });
        Assert.Equal(expected.ToPng(0), pngs[0].Data.ToArray());
    }

    [Fact]
    public async Task NamedPipelinesAreSharedAndDisposedWithTheContainer()
    {
        var services = new ServiceCollection();
        services.AddLumina()
            .AddTextToImage("diffusers", o => o.Model = folders.Diffusers)
            .AddTextToImage("original", o =>
            {
                o.Model = folders.Original;
                o.Load = new ModelLoadOptions { TransformerConfig = TinyLuminaNextFolders.DiT };
                o.TextEncoder = folders.GemmaFolder;
                o.Vae = folders.VaeFolder;
            });
        TextToImagePipeline a;
        await using (var provider = services.BuildServiceProvider())
        {
            var pipelines = provider.GetRequiredService<ILuminaPipelines>();
            var loads = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => pipelines.GetTextToImageAsync("diffusers")));
            Assert.All(loads, p => Assert.Same(loads[0], p));
            a = loads[0];
            var b = await pipelines.GetTextToImageAsync("original");
            Assert.NotSame(a, b);
            using var ra = await a.GenerateAsync(TinyLuminaNextFolders.Request());
            using var rb = await b.GenerateAsync(TinyLuminaNextFolders.Request());
            Assert.Equal(EndToEndTests.Pixels(ra.Images[0]), EndToEndTests.Pixels(rb.Images[0]));
            var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => pipelines.GetTextToImageAsync("nope"));
            Assert.Contains("diffusers", missing.Message);
        }
        await Assert.ThrowsAsync<ObjectDisposedException>(() => a.GenerateAsync(TinyLuminaNextFolders.Request()));
    }

    public static TheoryData<string, Action<LuminaOptions>> BadOptions() => new()
    {
        { "Device", o => o.Device = "" },
        { "Device", o => o.Device = "gpu0" },
        { "Device", o => o.Device = "cuda:-1" },
        { "DType", o => o.DType = "int8" },
        { "DType", o => o.DType = null! },
        { "Threads", o => o.Threads = 0 },
        { "Threads", o => o.Threads = -2 },
        { "CacheFolder", o => o.CacheFolder = " " },
        { "CacheFolder", o => o.CacheFolder = "bad\0path" },
        { "CacheFolder", o => o.CacheFolder = typeof(LuminaServicesTests).Assembly.Location },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task InvalidLuminaOptionsFailBeforeLoadingAndNameTheSetting(string field, Action<LuminaOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLumina(configure).AddTextToImage(o => o.Model = folders.Diffusers);
        await using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LuminaOptions>>().Value);
        Assert.Contains(field, e.Message);
        await Assert.ThrowsAsync<OptionsValidationException>(() => provider.GetRequiredService<ILuminaPipelines>().GetTextToImageAsync());
    }

    [Fact]
    public async Task InvalidPipelineOptionsNameTheSetting()
    {
        var services = new ServiceCollection();
        services.AddLumina()
            .AddTextToImage("no-model", _ => { })
            .AddTextToImage("bad-steps", o => { o.Model = folders.Diffusers; o.Settings = TextToImagePresets.LuminaNext with { NumInferenceSteps = 0 }; });
        await using var provider = services.BuildServiceProvider();
        var pipelines = provider.GetRequiredService<ILuminaPipelines>();
        Assert.Contains("Model", (await Assert.ThrowsAsync<OptionsValidationException>(() => pipelines.GetTextToImageAsync("no-model"))).Message);
        Assert.Contains("NumInferenceSteps", (await Assert.ThrowsAsync<OptionsValidationException>(() => pipelines.GetTextToImageAsync("bad-steps"))).Message);
    }

    [Fact]
    public void GoodOptionsPassAndParse()
    {
        var options = new LuminaOptions { Device = "cuda:1", DType = "BF16", Threads = 4, CacheFolder = Path.GetTempPath() };
        Assert.True(new LuminaOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TorchSharp.torch.ScalarType.BFloat16, options.ParseDType());
    }

    [Fact]
    public async Task AFailedLoadIsNotCachedSoTheNextCallRetries()
    {
        using var temp = new Lumina.Testing.TempFolder();
        var later = Path.Combine(temp.Path, "arrives-later");
        var services = new ServiceCollection();
        services.AddLumina().AddTextToImage(o => o.Model = later);
        await using var provider = services.BuildServiceProvider();
        var pipelines = provider.GetRequiredService<ILuminaPipelines>();
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => pipelines.GetTextToImageAsync());

        foreach (var file in Directory.EnumerateFiles(folders.Diffusers, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(later, Path.GetRelativePath(folders.Diffusers, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var pipe = await pipelines.GetTextToImageAsync();
        Assert.Same(pipe, await pipelines.GetTextToImageAsync());
    }

    [Fact]
    public void AdditionalPropertiesFromJsonMapOntoTheRequest()
    {
        var props = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, System.Text.Json.JsonElement>>(
            """{"seed": 12, "steps": 7, "solver": "RK4", "shift": 2.5, "guidance": 3, "negative_prompt": "blurry"}""")!;
        var options = new ImageGenerationOptions { Count = 3, ImageSize = new System.Drawing.Size(64, 32), AdditionalProperties = new() };
        foreach (var (k, v) in props) options.AdditionalProperties[k] = v;
        var r = LuminaImageGenerator.ToRequest(new ImageGenerationRequest("p"), options);
        Assert.Equal((12L, 7, OdeMethod.Rk4, 2.5, 3.0, "blurry", 3, 64, 32),
            (r.Seed, r.NumInferenceSteps, r.Solver, r.TimeShift, r.GuidanceScale, r.NegativePrompt, r.ImagesPerPrompt, r.Width, r.Height));
        r.Validate();
    }

    [Fact]
    public async Task ImageGeneratorRejectsWhatItCannotDo()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).BuildAsync();
        using var generator = new LuminaImageGenerator(pipe);
        await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(new ImageGenerationRequest("x"), new() { MediaType = "image/jpeg" }));
        await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(new ImageGenerationRequest("x"), new() { ResponseFormat = ImageGenerationResponseFormat.Uri }));
        await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(
            new ImageGenerationRequest("x", [new DataContent(new byte[] { 1 }, "image/png")])));
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => generator.GenerateAsync(new ImageGenerationRequest("x"), new() { ImageSize = new System.Drawing.Size(1000, 32) }));
        Assert.Equal("Width", e.ParamName);
        var s = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(new ImageGenerationRequest("x"), new() { AdditionalProperties = new() { ["solver"] = "leapfrog" } }));
        Assert.Contains("leapfrog", s.Message);
    }
}
