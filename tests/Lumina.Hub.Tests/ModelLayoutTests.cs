namespace Lumina.Hub.Tests;

public sealed class ModelLayoutTests
{
    private const string DiffusersIndex = """
        {"_class_name": "LuminaText2ImgPipeline", "_diffusers_version": "0.30.0",
         "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
         "text_encoder": ["transformers", "GemmaModel"],
         "tokenizer": ["transformers", "GemmaTokenizerFast"],
         "transformer": ["diffusers", "LuminaNextDiT2DModel"],
         "vae": ["diffusers", "AutoencoderKL"],
         "safety_checker": [null, null]}
        """;

    private static FakeFile F(string path, bool lfs = false) => new(path, HubTestEnvironment.Text($"content of {path}"), lfs);

    private static FakeRepo AddDiffusersRepo(FakeHub hub) => hub.AddRepo(
        "Alpha-VLLM/Lumina-Next-SFT-diffusers",
        F(".gitattributes"),
        F("README.md"),
        F("demo.png", lfs: true),
        new FakeFile("model_index.json", HubTestEnvironment.Text(DiffusersIndex), false),
        F("scheduler/scheduler_config.json"),
        F("text_encoder/config.json"),
        F("text_encoder/model-00001-of-00002.safetensors", lfs: true),
        F("text_encoder/model-00002-of-00002.safetensors", lfs: true),
        F("text_encoder/model.safetensors.index.json"),
        F("text_encoder/pytorch_model.bin", lfs: true),
        F("tokenizer/special_tokens_map.json"),
        F("tokenizer/tokenizer.json"),
        F("tokenizer/tokenizer.model", lfs: true),
        F("tokenizer/tokenizer_config.json"),
        F("transformer/config.json"),
        F("transformer/diffusion_pytorch_model.safetensors", lfs: true),
        F("transformer/diffusion_pytorch_model.fp16.safetensors", lfs: true),
        F("transformer/diffusion_pytorch_model.bin", lfs: true),
        F("vae/config.json"),
        F("vae/diffusion_pytorch_model.safetensors", lfs: true),
        F("vae/diffusion_pytorch_model.fp16.safetensors", lfs: true),
        F("safety_checker/model.safetensors", lfs: true),
        F("unused/model.safetensors", lfs: true));

    [Fact]
    public async Task ADiffusersRepoIsRecognisedAndOnlyItsNeededFilesAreDownloaded()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeRepo repo = AddDiffusersRepo(env.Hub);
        HubClient client = env.CreateClient();

        ResolvedModel model = await client.DownloadModelAsync(repo.Id);

        string[] expected =
        [
            "model_index.json",
            "scheduler/scheduler_config.json",
            "text_encoder/config.json",
            "text_encoder/model-00001-of-00002.safetensors",
            "text_encoder/model-00002-of-00002.safetensors",
            "text_encoder/model.safetensors.index.json",
            "tokenizer/special_tokens_map.json",
            "tokenizer/tokenizer.json",
            "tokenizer/tokenizer.model",
            "tokenizer/tokenizer_config.json",
            "transformer/config.json",
            "transformer/diffusion_pytorch_model.safetensors",
            "vae/config.json",
            "vae/diffusion_pytorch_model.safetensors",
        ];
        Assert.Equal(ModelLayout.Diffusers, model.Layout);
        Assert.Equal(repo.Commit, model.CommitHash);
        Assert.Equal(expected, model.Files);
        Assert.Equal(expected, HubCache.ListSnapshotFiles(model.SnapshotFolder));
        Assert.Equal(expected.Length, env.Hub.TotalBodyGets);
        Assert.Equal("content of vae/config.json", File.ReadAllText(model.LocalPath("vae/config.json")));
    }

    [Fact]
    public async Task AVariantTakesTheVariantWeightsWhereTheyExistAndPlainOnesElsewhere()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeRepo repo = AddDiffusersRepo(env.Hub);
        ResolvedModel model = await env.CreateClient().ResolveModelAsync(repo.Id, new ModelDownloadOptions { Variant = "fp16" });

        Assert.Contains("transformer/diffusion_pytorch_model.fp16.safetensors", model.Files);
        Assert.Contains("vae/diffusion_pytorch_model.fp16.safetensors", model.Files);
        Assert.DoesNotContain("transformer/diffusion_pytorch_model.safetensors", model.Files);
        Assert.Contains("text_encoder/model-00001-of-00002.safetensors", model.Files);

        // Resolving downloads model_index.json only.
        Assert.Equal(1, env.Hub.TotalBodyGets);
        Assert.Equal(1, env.Hub.BodyGets(repo.Id, "model_index.json"));
    }

    [Fact]
    public async Task AnOriginalLuminaRepoGetsOnlyTheChosenConsolidatedWeights()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        FakeRepo repo = env.Hub.AddRepo(
            "Alpha-VLLM/Lumina-Next-SFT",
            F("README.md"),
            F("consolidated.00-of-01.safetensors", lfs: true),
            F("consolidated_ema.00-of-01.safetensors", lfs: true),
            F("model_args.pth", lfs: true),
            F("examples/sample.png", lfs: true));
        HubClient client = env.CreateClient();

        ResolvedModel plain = await client.DownloadModelAsync(repo.Id);
        Assert.Equal(ModelLayout.Original, plain.Layout);
        Assert.Equal(["consolidated.00-of-01.safetensors"], plain.Files);
        Assert.Equal(["consolidated.00-of-01.safetensors"], HubCache.ListSnapshotFiles(plain.SnapshotFolder));

        ResolvedModel ema = await client.DownloadModelAsync(repo.Id, new ModelDownloadOptions { UseEma = true });
        Assert.Equal(["consolidated_ema.00-of-01.safetensors"], ema.Files);
        Assert.Equal(2, env.Hub.TotalBodyGets);
        Assert.Equal(0, env.Hub.BodyGets(repo.Id, "model_args.pth"));
    }

    [Fact]
    public async Task ARepoWithNeitherLayoutOrPickleOnlyWeightsFailsSayingWhy()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        env.Hub.AddRepo("org/plain", F("README.md"), F("model.safetensors", lfs: true));
        env.Hub.AddRepo(
            "org/pickles",
            new FakeFile("model_index.json", HubTestEnvironment.Text("""{"transformer": ["diffusers", "X"]}"""), false),
            F("transformer/config.json"),
            F("transformer/diffusion_pytorch_model.bin", lfs: true));
        HubClient client = env.CreateClient();

        HubLayoutException neither = await Assert.ThrowsAsync<HubLayoutException>(() => client.DownloadModelAsync("org/plain"));
        Assert.Contains("model_index.json", neither.Message, StringComparison.Ordinal);
        Assert.Contains("consolidated", neither.Message, StringComparison.Ordinal);

        HubLayoutException pickles = await Assert.ThrowsAsync<HubLayoutException>(() => client.DownloadModelAsync("org/pickles"));
        Assert.Contains("'transformer'", pickles.Message, StringComparison.Ordinal);
        Assert.Contains("safetensors", pickles.Message, StringComparison.Ordinal);
        Assert.Equal(0, env.Hub.BodyGets("org/pickles", "transformer/diffusion_pytorch_model.bin"));
    }
}
