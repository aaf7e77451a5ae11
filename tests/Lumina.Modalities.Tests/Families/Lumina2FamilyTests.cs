#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI 10.x.
using Lumina.AI;
using Lumina.Checkpoints;
using Lumina.DependencyInjection;
using Lumina.Families;
using Lumina.Hub;
using Lumina.Modalities.Tests.Hub;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Modalities.Tests.Families;

/// <summary>
/// Lumina-Image 2.0 through the registry: a tiny random model as a diffusers folder and as a ComfyUI single file with a
/// text-encoder/VAE folder, loaded by FromPretrained (local, and from a fake Hub on 127.0.0.1), DI and IImageGenerator,
/// generating real PNGs with upstream's defaults and system prompt.
/// </summary>
public sealed class Lumina2FamilyTests(TinyLumina2 tiny) : IClassFixture<TinyLumina2>
{
    private const string Real =
        "You are an assistant designed to generate superior images with the superior degree of image-text alignment based on textual prompts or user prompts. <Prompt Start> ";

    private static TextToImageRequest Small(string prompt = "a red circle", long seed = 3) => new(prompt) { Width = 32, Height = 32, Seed = seed, NumInferenceSteps = 2 };

    [Fact]
    public void TheRegistryTellsBothLayoutsApartFromLuminaNext()
    {
        var folder = ModelFolder.Open(tiny.Diffusers);
        Assert.Same(Lumina2Family.Instance, ModelFamilies.Detect(folder));
        var file = ModelFolder.Open(tiny.ComfyFile);
        Assert.Equal(ModelLayoutKind.SingleFile, file.Layout);
        Assert.Same(Lumina2Family.Instance, ModelFamilies.Detect(file));
        Assert.Null(file.Component("vae"));
        var comfy = ModelFamilies.DetectCheckpoint(file.TransformerTensorNames);
        Assert.Equal((Lumina2Family.Instance, ModelLayoutKind.Original), (comfy!.Value.Family as Lumina2Family, comfy.Value.Layout));
        Assert.Equal(ModelLayoutKind.Diffusers, ModelFamilies.DetectCheckpoint(folder.TransformerTensorNames)!.Value.Layout);
        Assert.Same(Lumina2Family.Instance, ModelFamilies.Preset("lumina2").Family);
        Assert.Same(Lumina2Family.Instance, ModelFamilies.ByName("lumina2"));

        // Upstream's defaults, with the diffusers folder's scheduler shift.
        var settings = Lumina2Family.Instance.SettingsFor(folder);
        Assert.Equal(TextToImagePresets.Lumina2 with { TimeShift = TinyLumina2.Shift }, settings);
    }

    [Fact]
    public async Task BothLayoutsGenerateDecodablePngsWithUpstreamsDefaults()
    {
        using var diffusers = await LuminaPipeline.TextToImage().FromPretrained(tiny.Diffusers).BuildAsync();
        using var single = await LuminaPipeline.TextToImage().FromPretrained(tiny.ComfyFile)
            .WithComponents(textEncoder: tiny.Components, vae: tiny.Components).BuildAsync();
        foreach (var pipe in new[] { diffusers, single })
        {
            Assert.Same(Lumina2Family.Instance, pipe.Family);
            Assert.IsType<Lumina2Transformer>(pipe.Transformer);
            Assert.Equal((Guidance.GuidanceChannels.All, "real", 18, 1.0), (pipe.Settings.GuidanceChannels, pipe.Settings.SystemPrompt, pipe.Settings.NumInferenceSteps, pipe.Settings.GuidanceClipToConditionalNorm));
            using var result = await pipe.GenerateAsync(Small());
            using var decoded = Image.Load<Rgb24>(result.ToPng(0));
            Assert.Equal((32, 32), (decoded.Width, decoded.Height));
            Assert.True(Pixels(decoded).Distinct().Count() > 10, "a random model should still give a non-constant image");
        }
        // The single file is the same model in upstream form (q/k eps 1e-6 instead of diffusers' 1e-5): read from its header.
        var fromHeader = Assert.IsType<Lumina2Transformer>(single.Transformer).Config;
        Assert.Equal(TinyLumina2.DiT.AxesDims, fromHeader.AxesDims);
        Assert.Equal(TinyLumina2.DiT.AxesLens, fromHeader.AxesLens);
        Assert.Equal(TinyLumina2.DiT with { MultipleOf = fromHeader.MultipleOf }, fromHeader with { AxesDims = TinyLumina2.DiT.AxesDims, AxesLens = TinyLumina2.DiT.AxesLens });
        Assert.Equal(TinyLumina2.DiT.FfnHiddenDim, fromHeader.FfnHiddenDim);
        Assert.Equal(6.0, diffusers.Settings.TimeShift);
        Assert.Equal(32, diffusers.Settings.Width); // sample_size 16 × the VAE's /2
    }

    [Fact]
    public async Task AWrongArchitectureIsRefusedFromTheHeaderBeforeAllocating()
    {
        var e = await Assert.ThrowsAsync<LuminaException>(() => LuminaPipeline.TextToImage().FromPretrained(tiny.ComfyFile)
            .WithTransformerPreset("Lumina2").WithComponents(textEncoder: tiny.Components, vae: tiny.Components).BuildAsync());
        Assert.Contains("transformer preset 'Lumina2'", e.Message);
        Assert.Contains("does not describe", e.Message);
        Assert.True(e.Message.Contains("cap_embedder.1.weight", StringComparison.Ordinal) && e.Message.Contains("wrong shape", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public async Task AnUpstreamKeyFolderLoads_AndASingleFileSavesAsADiffusersFolderThatLoadsBack()
    {
        using var temp = new TempFolder("lumina2-layouts");
        // consolidated.00-of-01.safetensors in upstream's names (what converting upstream's .pth gives).
        var original = Directory.CreateDirectory(Path.Combine(temp.Path, "original")).FullName;
        using (var dit = new Lumina2Transformer(TinyLumina2.DiT))
        {
            Lumina2Checkpoint.Load(dit, tiny.ComfyFile);
            Lumina2Checkpoint.Save(dit, Path.Combine(original, "consolidated.00-of-01.safetensors"), Lumina2CheckpointLayout.Upstream);
        }
        Assert.Same(Lumina2Family.Instance, ModelFamilies.Detect(ModelFolder.Open(original)));
        using var fromOriginal = await LuminaPipeline.TextToImage().FromPretrained(original)
            .WithComponents(textEncoder: tiny.Components, vae: tiny.Components).BuildAsync();
        using var single = await LuminaPipeline.TextToImage().FromPretrained(tiny.ComfyFile)
            .WithComponents(textEncoder: tiny.Components, vae: tiny.Components).BuildAsync();
        using (var a = await fromOriginal.GenerateAsync(Small()))
        using (var b = await single.GenerateAsync(Small()))
            Assert.Equal(Pixels(b.Images[0]), Pixels(a.Images[0])); // the same weights, names and eps

        // ComfyUI single file → a diffusers folder (Lumina2Pipeline, split q/k/v), which loads back as Lumina-Image 2.0.
        var saved = Path.Combine(temp.Path, "saved");
        await single.SavePretrainedAsync(saved);
        var folder = ModelFolder.Open(saved);
        Assert.Equal(("Lumina2Pipeline", Lumina2Config.DiffusersClassName), (folder.PipelineClass, folder.TransformerClass));
        Assert.Contains("layers.0.attn.to_q.weight", folder.TransformerTensorNames);
        using var reloaded = await LuminaPipeline.TextToImage().FromPretrained(saved).BuildAsync();
        Assert.Same(Lumina2Family.Instance, reloaded.Family);
        using var c = await reloaded.GenerateAsync(Small());
        using var decoded = Image.Load<Rgb24>(c.ToPng(0));
        Assert.Equal((32, 32), (decoded.Width, decoded.Height));
    }

    [Fact]
    public async Task TheEncoderSeesUpstreamsSystemPromptBeforeThePromptAndANonEmptyNegative()
    {
        using var loaded = await LuminaPipeline.TextToImage().FromPretrained(tiny.Diffusers).BuildAsync();
        var recorder = new RecordingEncoder(loaded.CaptionEncoder);
        // Shares the loaded components; only `loaded` owns (and disposes) them.
        var pipe = new TextToImagePipeline(loaded.Transformer, recorder, loaded.LatentSpace, loaded.Settings);
        var one = Small() with { NumInferenceSteps = 1 };

        (await pipe.GenerateAsync(one with { NegativePrompt = "blurry" })).Dispose();
        (await pipe.GenerateAsync(one)).Dispose();
        (await pipe.GenerateAsync(one with { SystemPrompt = "none", NegativePrompt = "blurry" })).Dispose();
        (await pipe.GenerateAsync(one with { SystemPrompt = "4grid" })).Dispose();

        Assert.Equal(
        [
            [Real + "a red circle", Real + "blurry"],
            [Real + "a red circle", ""],
            ["a red circle", "blurry"],
            [Lumina2SystemPrompt.FourGrid + "a red circle", ""],
        ], recorder.Calls);
    }

    [Fact]
    public async Task DiAndTheImageGeneratorServeBothLayouts()
    {
        var services = new ServiceCollection();
        services.AddLumina()
            .AddTextToImage("diffusers", o => o.Model = tiny.Diffusers)
            .AddTextToImage("single", o => { o.Model = tiny.ComfyFile; o.TextEncoder = tiny.Components; o.Vae = tiny.Components; })
            .AddImageGenerator("diffusers");
        services.AddKeyedSingleton<IImageGenerator>("single", (sp, _) =>
            new LuminaImageGenerator(ct => sp.GetRequiredService<ILuminaPipelines>().GetTextToImageAsync("single", ct)));
        await using var provider = services.BuildServiceProvider();
        var pipelines = provider.GetRequiredService<ILuminaPipelines>();
        foreach (var name in new[] { "diffusers", "single" })
            Assert.Same(Lumina2Family.Instance, (await pipelines.GetTextToImageAsync(name)).Family);

        var options = new ImageGenerationOptions { ImageSize = new System.Drawing.Size(32, 32), AdditionalProperties = new() { ["steps"] = 1, ["system_prompt"] = "aesthetics" } };
        foreach (var generator in new[] { provider.GetRequiredService<IImageGenerator>(), provider.GetRequiredKeyedService<IImageGenerator>("single") })
        {
            var response = await generator.GenerateAsync(new ImageGenerationRequest("a lighthouse"), options);
            var png = ((DataContent)Assert.Single(response.Contents)).Data.ToArray();
            using var image = Image.Load<Rgb24>(png);
            Assert.Equal((32, 32), (image.Width, image.Height));
        }
    }

    internal static byte[] Pixels(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    internal static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The real encoder, recording the texts it is given.</summary>
    private sealed class RecordingEncoder(ICaptionEncoder inner) : ICaptionEncoder
    {
        public List<string[]> Calls { get; } = [];

        public TorchSharp.torch.nn.Module Module => inner.Module;

        public int FeatureSize => inner.FeatureSize;

        public CaptionEmbeddings Encode(IReadOnlyList<string> prompts, CancellationToken cancellationToken = default)
        {
            Calls.Add([.. prompts]);
            return inner.Encode(prompts, cancellationToken);
        }

        public void Dispose()
        {
            // The inner encoder belongs to the loaded pipeline.
        }
    }
}

/// <summary><c>FromPretrained("Alpha-VLLM/Lumina-Image-2.0")</c> through Lumina.Hub against a fake Hub on 127.0.0.1.</summary>
public sealed class Lumina2HubTests(TinyLumina2 tiny) : IClassFixture<TinyLumina2>, IAsyncLifetime
{
    private FakeHub hub = null!;
    private readonly TempFolder home = new("lumina2-hub-home");

    public async Task InitializeAsync()
    {
        hub = await FakeHub.StartAsync();
        FakeHubRepos.Publish(hub, Lumina2Family.HubRepo, tiny.Diffusers);
    }

    public async Task DisposeAsync()
    {
        await hub.DisposeAsync();
        home.Dispose();
    }

    [Fact]
    public async Task TheHubIdAndASingleFileWithTheHubsComponentsBothLoad()
    {
        var cache = Path.Combine(home.Path, "cache");
        var client = Client(cache);
        using var fromHub = await LuminaPipeline.TextToImage().FromPretrained(Lumina2Family.HubRepo).WithHub(client).BuildAsync();
        using var local = await LuminaPipeline.TextToImage().FromPretrained(tiny.Diffusers).BuildAsync();
        var request = new TextToImageRequest("a lighthouse") { Width = 32, Height = 32, Seed = 5, NumInferenceSteps = 2 };
        using var a = await fromHub.GenerateAsync(request);
        using var b = await local.GenerateAsync(request);
        Assert.Same(Lumina2Family.Instance, fromHub.Family);
        Assert.Equal(Lumina2FamilyTests.Pixels(b.Images[0]), Lumina2FamilyTests.Pixels(a.Images[0]));
        Assert.Equal(Lumina2Family.HubRepo, a.Metadata[0].ModelId);

        // A ComfyUI single file with no components named: its text encoder, tokenizer and VAE come from the Hub repo's
        // text_encoder/, tokenizer/ and vae/ (not its transformer).
        var gets = hub.TotalBodyGets;
        using var single = await LuminaPipeline.TextToImage().FromPretrained(tiny.ComfyFile).WithHub(Client(Path.Combine(home.Path, "cache2"))).BuildAsync();
        using var c = await single.GenerateAsync(request);
        using var decoded = Image.Load<Rgb24>(c.ToPng(0));
        Assert.Equal((32, 32), (decoded.Width, decoded.Height));
        var snapshot = Directory.GetDirectories(Path.Combine(home.Path, "cache2", "models--Alpha-VLLM--Lumina-Image-2.0", "snapshots")).Single();
        Assert.True(File.Exists(Path.Combine(snapshot, "text_encoder", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(snapshot, "vae", "diffusion_pytorch_model.safetensors")));
        Assert.False(Directory.Exists(Path.Combine(snapshot, "transformer")), "the single file's own transformer is used; the repo's is not downloaded");
        Assert.True(hub.TotalBodyGets > gets);
    }

    private HubClient Client(string cache) => FakeHubRepos.Client(hub, cache, home.Path);
}
