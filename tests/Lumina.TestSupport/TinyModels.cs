using System.Text.Json.Nodes;
using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Schedulers;
using Lumina.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Testing;

/// <summary>
/// Tiny random Lumina-Next components (Next-DiT, Gemma, AutoencoderKL) written to disk in both published layouts:
/// <c>diffusers/</c> (model_index.json, transformer/, vae/, sharded text_encoder/, tokenizer/, scheduler/) and
/// <c>original/</c> (consolidated.00-of-01.safetensors) with separate <c>gemma/</c> and <c>sdxl-vae/</c> folders.
/// </summary>
public sealed class TinyLuminaNextFolders : IDisposable
{
    public static readonly NextDiTConfig DiT = new()
    {
        PatchSize = 2, InChannels = 4, Dim = 32, Layers = 2, Heads = 2, KvHeads = 1, MultipleOf = 16, LearnSigma = true,
        QkNorm = true, CaptionDim = 32,
    };

    public static readonly GemmaConfig Gemma = new()
    {
        VocabSize = 1200, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 2,
        NumKeyValueHeads = 1, HeadDim = 16, MaxPositionEmbeddings = 256, RmsNormEps = 1e-6, PadTokenId = 0, EosTokenId = 1, BosTokenId = 2,
    };

    public static readonly AutoencoderKLConfig Vae = new()
    {
        BlockOutChannels = [8, 8], LayersPerBlock = 1, LatentChannels = 4, NormNumGroups = 4, SampleSize = 32, ScalingFactor = 0.13025,
    };

    private readonly TempFolder temp = new("lumina-tiny-next");

    public TinyLuminaNextFolders()
    {
        Diffusers = Path.Combine(temp.Path, "diffusers");
        Original = Path.Combine(temp.Path, "original");
        GemmaFolder = Path.Combine(temp.Path, "gemma");
        VaeFolder = Path.Combine(temp.Path, "sdxl-vae");
        foreach (var d in new[] { Diffusers, Original, GemmaFolder, VaeFolder }) Directory.CreateDirectory(d);

        using var generator = new Generator(20261126);
        using var dit = Randomize(new NextDiT(DiT), generator, 0.3);
        using var gemma = Randomize(new DecoderTextModel(Gemma), generator, 0.3);
        using var vae = Randomize(new AutoencoderKL(Vae), generator, 0.2);

        // original layout: the DiT alone, under upstream's key names; text encoder and VAE live elsewhere.
        dit.SaveSafetensors(Path.Combine(Original, "consolidated.00-of-01.safetensors"));
        gemma.SaveSafetensors(Path.Combine(GemmaFolder, "model.safetensors"));
        WriteGemmaConfig(Path.Combine(GemmaFolder, "config.json"));
        WriteTokenizer(GemmaFolder);
        vae.SaveSafetensors(Path.Combine(VaeFolder, "diffusion_pytorch_model.safetensors"));
        WriteVaeConfig(Path.Combine(VaeFolder, "config.json"));

        // diffusers layout, through the one writer.
        WriteDiffusersFolder(Diffusers, dit, gemma, vae, DiT);
    }

    /// <summary>
    /// Writes a Lumina-Next diffusers folder of these components (sharded text encoder, scheduler shift
    /// <paramref name="shift"/>) with <see cref="DiffusersFolder.Write"/>.
    /// </summary>
    public static void WriteDiffusersFolder(string folder, NextDiT dit, DecoderTextModel gemma, AutoencoderKL vae, NextDiTConfig config, double shift = 4.0)
    {
        var index = new DiffusersModelIndex
        {
            PipelineClass = "LuminaText2ImgPipeline",
            Components =
            [
                new("scheduler", new DiffusersComponent("diffusers", FlowMatchSchedulerConfig.ClassName)),
                new("text_encoder", new DiffusersComponent("transformers", "GemmaModel")),
                new("tokenizer", new DiffusersComponent("transformers", "GemmaTokenizerFast")),
                new("transformer", new DiffusersComponent("diffusers", NextDiTConfig.DiffusersClassName)),
                new("vae", new DiffusersComponent("diffusers", "AutoencoderKL")),
            ],
        };
        DiffusersFolder.Write(folder, index, new Dictionary<string, Action<string>>
        {
            ["transformer"] = dir =>
            {
                NextDiTCheckpoint.SaveDiffusers(dit, Path.Combine(dir, "diffusion_pytorch_model.safetensors"));
                File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson(16));
            },
            ["vae"] = dir =>
            {
                vae.SaveSafetensors(Path.Combine(dir, "diffusion_pytorch_model.safetensors"));
                WriteVaeConfig(Path.Combine(dir, "config.json"));
            },
            ["text_encoder"] = dir =>
            {
                WriteSharded(gemma, dir, "model", shards: 2);
                WriteGemmaConfig(Path.Combine(dir, "config.json"));
            },
            ["tokenizer"] = WriteTokenizer,
            ["scheduler"] = DiffusersFolder.JsonFile(DiffusersFolder.SchedulerConfigFile, new FlowMatchSchedulerConfig { Shift = shift }.ToJson()),
        }, overwrite: true);
    }

    public string Diffusers { get; }
    public string Original { get; }
    public string GemmaFolder { get; }
    public string VaeFolder { get; }

    /// <summary>The builder for the original-layout folder (architecture and components given explicitly).</summary>
    public TextToImagePipelineBuilder OriginalBuilder() => LuminaPipeline.TextToImage().FromPretrained(Original)
        .WithTransformerConfig(DiT).WithComponents(textEncoder: GemmaFolder, vae: VaeFolder);

    /// <summary>A small fast request.</summary>
    public static TextToImageRequest Request(string prompt = "a red circle on the left", long seed = 7) => new(prompt)
    {
        Width = 32, Height = 48, Seed = seed, NumInferenceSteps = 2,
    };

    public static T Randomize<T>(T module, Generator generator, double scale) where T : nn.Module
    {
        using var noGrad = no_grad();
        foreach (var (_, p) in module.named_parameters())
            p.copy_(randn(p.shape, dtype: p.dtype, generator: generator).mul_(scale));
        return module;
    }

    private static void WriteSharded(nn.Module module, string folder, string stem, int shards)
    {
        var entries = module.state_dict().ToList();
        var map = new JsonObject();
        var per = (entries.Count + shards - 1) / shards;
        for (var s = 0; s < shards; s++)
        {
            var name = $"{stem}-{s + 1:00000}-of-{shards:00000}.safetensors";
            var part = entries.Skip(s * per).Take(per).ToList();
            SafetensorsWriter.Write(Path.Combine(folder, name), part, null);
            foreach (var (key, _) in part) map[key] = name;
        }
        File.WriteAllText(Path.Combine(folder, $"{stem}.safetensors.index.json"),
            new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());
    }

    private static void WriteGemmaConfig(string path) => File.WriteAllText(path, Gemma.ToJson());

    public static void WriteTokenizer(string folder)
    {
        File.Copy(Path.Combine(Path.GetDirectoryName(Golden.WeightsPath("gemma"))!, "tokenizers", "gemma_like.model"), Path.Combine(folder, "tokenizer.model"));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            """{"add_bos_token": true, "add_eos_token": false, "tokenizer_class": "GemmaTokenizer"}""");
    }

    public static void WriteVaeConfig(string path) => File.WriteAllText(path, new JsonObject
    {
        ["_class_name"] = "AutoencoderKL", ["in_channels"] = 3, ["out_channels"] = 3,
        ["block_out_channels"] = new JsonArray(Vae.BlockOutChannels.Select(c => (JsonNode)c).ToArray()),
        ["down_block_types"] = new JsonArray(Vae.BlockOutChannels.Select(_ => (JsonNode)"DownEncoderBlock2D").ToArray()),
        ["up_block_types"] = new JsonArray(Vae.BlockOutChannels.Select(_ => (JsonNode)"UpDecoderBlock2D").ToArray()),
        ["layers_per_block"] = Vae.LayersPerBlock, ["latent_channels"] = Vae.LatentChannels, ["norm_num_groups"] = Vae.NormNumGroups,
        ["sample_size"] = Vae.SampleSize, ["scaling_factor"] = Vae.ScalingFactor, ["act_fn"] = "silu",
    }.ToJsonString());

    public void Dispose() => temp.Dispose();
}

/// <summary>
/// Tiny random Lumina-T2I components (Flag-DiT, LLaMA, AutoencoderKL) in the original layout — the only layout
/// Lumina-T2I is published in (diffusers has no Flag-DiT class).
/// </summary>
public sealed class TinyLuminaT2IFolders : IDisposable
{
    public static readonly FlagDiTConfig DiT = new()
    {
        PatchSize = 2, InChannels = 4, Dim = 32, Layers = 2, Heads = 2, MultipleOf = 16, LearnSigma = true, QkNorm = true,
        CaptionDim = 32, MaxSequenceLength = 1024,
    };

    public static readonly LlamaConfig Llama = new()
    {
        VocabSize = 1200, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 256, RmsNormEps = 1e-5, BosTokenId = 1, EosTokenId = 2,
    };

    private readonly TempFolder temp = new("lumina-tiny-t2i");

    public TinyLuminaT2IFolders()
    {
        Original = Directory.CreateDirectory(Path.Combine(temp.Path, "original")).FullName;
        LlamaFolder = Directory.CreateDirectory(Path.Combine(temp.Path, "llama")).FullName;
        VaeFolder = Directory.CreateDirectory(Path.Combine(temp.Path, "sdxl-vae")).FullName;
        using var generator = new Generator(7122026);
        using var dit = TinyLuminaNextFolders.Randomize(new FlagDiT(DiT), generator, 0.3);
        using var llama = TinyLuminaNextFolders.Randomize(new DecoderTextModel(Llama), generator, 0.3);
        using var vae = TinyLuminaNextFolders.Randomize(new AutoencoderKL(TinyLuminaNextFolders.Vae), generator, 0.2);
        dit.SaveSafetensors(Path.Combine(Original, "consolidated.00-of-01.safetensors"));
        llama.SaveSafetensors(Path.Combine(LlamaFolder, "model.safetensors"));
        File.WriteAllText(Path.Combine(LlamaFolder, "config.json"), new JsonObject
        {
            ["model_type"] = "llama", ["vocab_size"] = Llama.VocabSize, ["hidden_size"] = Llama.HiddenSize,
            ["intermediate_size"] = Llama.IntermediateSize, ["num_hidden_layers"] = Llama.NumHiddenLayers,
            ["num_attention_heads"] = Llama.NumAttentionHeads, ["num_key_value_heads"] = Llama.NumKeyValueHeads,
            ["max_position_embeddings"] = Llama.MaxPositionEmbeddings, ["rms_norm_eps"] = Llama.RmsNormEps,
            ["hidden_act"] = "silu", ["bos_token_id"] = 1, ["eos_token_id"] = 2,
        }.ToJsonString());
        File.Copy(Path.Combine(Path.GetDirectoryName(Golden.WeightsPath("llama"))!, "tokenizers", "llama_like.model"), Path.Combine(LlamaFolder, "tokenizer.model"));
        File.WriteAllText(Path.Combine(LlamaFolder, "tokenizer_config.json"), """{"add_bos_token": true, "add_eos_token": false, "tokenizer_class": "LlamaTokenizer"}""");
        vae.SaveSafetensors(Path.Combine(VaeFolder, "diffusion_pytorch_model.safetensors"));
        TinyLuminaNextFolders.WriteVaeConfig(Path.Combine(VaeFolder, "config.json"));
    }

    public string Original { get; }
    public string LlamaFolder { get; }
    public string VaeFolder { get; }

    public TextToImagePipelineBuilder Builder() => LuminaPipeline.TextToImage().FromPretrained(Original)
        .WithTransformerConfig(DiT).WithComponents(textEncoder: LlamaFolder, vae: VaeFolder);

    public void Dispose() => temp.Dispose();
}
