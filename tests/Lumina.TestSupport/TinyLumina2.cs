using System.Text.Json.Nodes;
using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Testing;

/// <summary>
/// A tiny random Lumina-Image 2.0 (Unified Next-DiT + Gemma-2 + a 16-channel FLUX-shaped VAE) on disk in both layouts
/// people download: <see cref="Diffusers"/> (the <c>Alpha-VLLM/Lumina-Image-2.0</c> layout, written with
/// <see cref="DiffusersFolder.Write"/>) and <see cref="ComfyFile"/> (a ComfyUI single file, upstream keys behind
/// <c>model.diffusion_model.</c>) with <see cref="Components"/> (text_encoder/, tokenizer/, vae/ without a transformer).
/// Both hold the same weights (the diffusers form runs with diffusers' q/k eps 1e-5, the single file with upstream's 1e-6).
/// </summary>
public sealed class TinyLumina2 : IDisposable
{
    /// <summary>The transformer (upstream form: q/k eps 1e-6, with norm_final): dim 48, 1 layer, 1+1 refiners, 2 heads / 1 KV head of 24.</summary>
    public static readonly Lumina2Config DiT = new()
    {
        PatchSize = 2, InChannels = 16, Dim = 48, Layers = 1, RefinerLayers = 1, Heads = 2, KvHeads = 1, MultipleOf = 16, CaptionDim = 32,
        AxesDims = [8, 8, 8], AxesLens = [300, 512, 512],
    };

    /// <summary>Gemma-2 with 2 layers of width 32 (features = hidden_states[-2]).</summary>
    internal static readonly Gemma2Config Gemma2 = new()
    {
        VocabSize = 1200, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 16,
        MaxPositionEmbeddings = 512, QueryPreAttnScalar = 16, SlidingWindow = 64,
    };

    /// <summary>The FLUX VAE's shape (16 latent channels, no quant convs, scaling 0.3611, shift 0.1159) with 2 blocks of 8 channels (/2).</summary>
    public static readonly AutoencoderKLConfig Vae = AutoencoderKLConfig.FluxVae with
    {
        BlockOutChannels = [8, 8], LayersPerBlock = 1, NormNumGroups = 4, SampleSize = 32,
    };

    /// <summary>The latent side at the training resolution written to transformer/config.json (16 → 32 px images).</summary>
    public const int SampleSize = 16;

    /// <summary>The scheduler shift written to the diffusers folder.</summary>
    public const double Shift = 6.0;

    private readonly TempFolder temp = new("lumina-tiny-lumina2");

    /// <summary>Writes both layouts into a fresh temporary folder.</summary>
    public TinyLumina2()
    {
        Diffusers = Path.Combine(temp.Path, "Lumina-Image-2.0");
        Components = Path.Combine(temp.Path, "components");
        ComfyFile = Path.Combine(temp.Path, "lumina_2_model_bf16.safetensors");

        using var generator = new Generator(20261201);
        using var dit = Randomize(new Lumina2Transformer(DiT), generator, 0.3);
        using var gemma = Randomize(new DecoderTextModel(Gemma2), generator, 0.3);
        using var vae = Randomize(new AutoencoderKL(Vae), generator, 0.2);

        Lumina2Checkpoint.Save(dit, ComfyFile, Lumina2CheckpointLayout.ComfyUI);
        WriteDiffusersFolder(Diffusers, dit, gemma, vae);
        foreach (var part in new[] { "text_encoder", "tokenizer", "vae" })
            DiffusersFolder.CopyFrom(Path.Combine(Diffusers, part))(Directory.CreateDirectory(Path.Combine(Components, part)).FullName);
    }

    /// <summary>The diffusers folder (model_index.json: Lumina2Pipeline).</summary>
    public string Diffusers { get; }

    /// <summary>The ComfyUI single-file transformer.</summary>
    public string ComfyFile { get; }

    /// <summary>A folder with text_encoder/, tokenizer/ and vae/ (what a single file needs besides itself).</summary>
    public string Components { get; }

    /// <summary>Writes a Lumina-Image 2.0 diffusers folder of these components with <see cref="DiffusersFolder.Write"/>.</summary>
    internal static void WriteDiffusersFolder(string folder, Lumina2Transformer dit, DecoderTextModel gemma, AutoencoderKL vae, double shift = Shift,
        bool dynamicShifting = false)
    {
        ArgumentNullException.ThrowIfNull(dit);
        ArgumentNullException.ThrowIfNull(gemma);
        ArgumentNullException.ThrowIfNull(vae);
        var index = new DiffusersModelIndex
        {
            PipelineClass = "Lumina2Pipeline",
            Components =
            [
                new("scheduler", new DiffusersComponent("diffusers", "FlowMatchEulerDiscreteScheduler")),
                new("text_encoder", new DiffusersComponent("transformers", "Gemma2Model")),
                new("tokenizer", new DiffusersComponent("transformers", "GemmaTokenizerFast")),
                new("transformer", new DiffusersComponent("diffusers", Lumina2Config.DiffusersClassName)),
                new("vae", new DiffusersComponent("diffusers", "AutoencoderKL")),
            ],
        };
        DiffusersFolder.Write(folder, index, new Dictionary<string, Action<string>>
        {
            ["transformer"] = dir =>
            {
                Lumina2Checkpoint.Save(dit, Path.Combine(dir, "diffusion_pytorch_model.safetensors"), Lumina2CheckpointLayout.Diffusers);
                File.WriteAllText(Path.Combine(dir, "config.json"), dit.Config.ToJson(SampleSize));
            },
            ["vae"] = dir =>
            {
                vae.SaveSafetensors(Path.Combine(dir, "diffusion_pytorch_model.safetensors"));
                File.WriteAllText(Path.Combine(dir, "config.json"), VaeConfigJson());
            },
            ["text_encoder"] = dir =>
            {
                gemma.SaveSafetensors(Path.Combine(dir, "model.safetensors"));
                File.WriteAllText(Path.Combine(dir, "config.json"), Gemma2ConfigJson());
            },
            ["tokenizer"] = WriteTokenizer,
            ["scheduler"] = DiffusersFolder.JsonFile(DiffusersFolder.SchedulerConfigFile, new JsonObject
            {
                ["_class_name"] = "FlowMatchEulerDiscreteScheduler", ["num_train_timesteps"] = 1000, ["shift"] = shift,
                ["use_dynamic_shifting"] = dynamicShifting, ["base_shift"] = 0.5, ["max_shift"] = 1.15, ["base_image_seq_len"] = 256,
                ["max_image_seq_len"] = 4096,
            }.ToJsonString()),
        }, overwrite: true);
    }

    /// <summary>transformers' config.json of <see cref="Gemma2"/>.</summary>
    internal static string Gemma2ConfigJson() => new JsonObject
    {
        ["model_type"] = "gemma2", ["architectures"] = new JsonArray("Gemma2Model"), ["vocab_size"] = Gemma2.VocabSize,
        ["hidden_size"] = Gemma2.HiddenSize, ["intermediate_size"] = Gemma2.IntermediateSize, ["num_hidden_layers"] = Gemma2.NumHiddenLayers,
        ["num_attention_heads"] = Gemma2.NumAttentionHeads, ["num_key_value_heads"] = Gemma2.NumKeyValueHeads, ["head_dim"] = Gemma2.HeadDim,
        ["hidden_activation"] = Gemma2.HiddenActivation, ["max_position_embeddings"] = Gemma2.MaxPositionEmbeddings, ["rms_norm_eps"] = Gemma2.RmsNormEps,
        ["rope_theta"] = Gemma2.RopeTheta, ["query_pre_attn_scalar"] = Gemma2.QueryPreAttnScalar, ["sliding_window"] = Gemma2.SlidingWindow,
        ["attn_logit_softcapping"] = Gemma2.AttnLogitSoftcapping, ["final_logit_softcapping"] = Gemma2.FinalLogitSoftcapping,
        ["pad_token_id"] = 0, ["eos_token_id"] = 1, ["bos_token_id"] = 2,
    }.ToJsonString();

    /// <summary>diffusers' vae/config.json of <see cref="Vae"/> (FLUX: no quant convs, shift factor).</summary>
    public static string VaeConfigJson() => new JsonObject
    {
        ["_class_name"] = "AutoencoderKL", ["in_channels"] = 3, ["out_channels"] = 3,
        ["block_out_channels"] = new JsonArray(Vae.BlockOutChannels.Select(c => (JsonNode)c).ToArray()),
        ["down_block_types"] = new JsonArray(Vae.BlockOutChannels.Select(_ => (JsonNode)"DownEncoderBlock2D").ToArray()),
        ["up_block_types"] = new JsonArray(Vae.BlockOutChannels.Select(_ => (JsonNode)"UpDecoderBlock2D").ToArray()),
        ["layers_per_block"] = Vae.LayersPerBlock, ["latent_channels"] = Vae.LatentChannels, ["norm_num_groups"] = Vae.NormNumGroups,
        ["sample_size"] = Vae.SampleSize, ["scaling_factor"] = Vae.ScalingFactor, ["shift_factor"] = Vae.ShiftFactor, ["act_fn"] = "silu",
        ["use_quant_conv"] = false, ["use_post_quant_conv"] = false, ["mid_block_add_attention"] = true,
    }.ToJsonString();

    /// <summary>Gemma's SentencePiece model (the golden <c>gemma_like</c>) and its tokenizer_config.json.</summary>
    public static void WriteTokenizer(string folder)
    {
        File.Copy(Path.Combine(Path.GetDirectoryName(Golden.WeightsPath("gemma"))!, "tokenizers", "gemma_like.model"), Path.Combine(folder, "tokenizer.model"));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            """{"add_bos_token": true, "add_eos_token": false, "tokenizer_class": "GemmaTokenizer", "padding_side": "right"}""");
    }

    /// <summary>Fills every parameter with seeded normal noise times <paramref name="scale"/>.</summary>
    public static T Randomize<T>(T module, Generator generator, double scale) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = no_grad();
        foreach (var (_, p) in module.named_parameters())
            p.copy_(randn(p.shape, dtype: p.dtype, generator: generator).mul_(scale));
        return module;
    }

    /// <inheritdoc />
    public void Dispose() => temp.Dispose();
}
