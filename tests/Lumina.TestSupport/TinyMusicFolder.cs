using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Lumina.Audio;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Models.Vocoders;
using Lumina.Pipelines;
using Lumina.Tensors;
using static TorchSharp.torch;

namespace Lumina.Testing;

/// <summary>A tiny random text-to-music folder (T5 → music DiT → 1-D VAE → BigVGAN), generating WAV files.</summary>
public sealed class TinyMusicFolder : IDisposable
{
    private readonly TempFolder temp = new("lumina-tiny-music");

    public TinyMusicFolder()
    {
        Path = temp.Path;
        var dit = new MusicDiTConfig { InChannels = 4, CaptionDim = 32, Dim = 64, Layers = 2, Heads = 4, MaxLength = 100, MultipleOf = 16 };
        var vae = new AutoencoderKL1DConfig
        {
            EmbedDim = 4, InChannels = 16, OutChannels = 16, ZChannels = 4, KernelSize = 5, Channels = 32, ChannelMultipliers = [1, 2],
            NumResBlocks = 1, AttentionLevels = [1], DownsampleLevels = [0],
        };
        const string vocoderJson = """
            {"num_mels": 16, "upsample_initial_channel": 32, "resblock": "1", "resblock_kernel_sizes": [3, 7],
             "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]], "upsample_rates": [4, 2], "upsample_kernel_sizes": [8, 4],
             "activation": "snakebeta", "snake_logscale": true, "sampling_rate": 800}
            """;
        var t5 = new T5Config { VocabSize = 320, DModel = 32, DKv = 8, DFf = 64, NumLayers = 2, NumHeads = 4, FeedForwardProj = "gated-gelu" };
        using var generator = new Generator(1234567);
        File.WriteAllText(System.IO.Path.Combine(Path, "model_index.json"), """{"_class_name": "LuminaText2MusicPipeline"}""");
        var dir = Directory.CreateDirectory(System.IO.Path.Combine(Path, "transformer")).FullName;
        using (var m = TinyLuminaNextFolders.Randomize(new MusicDiT(dit), generator, 0.2)) m.SaveSafetensors(System.IO.Path.Combine(dir, "diffusion_pytorch_model.safetensors"));
        AudioModelConfigs.WriteTransformer(dit, System.IO.Path.Combine(dir, "config.json"));
        dir = Directory.CreateDirectory(System.IO.Path.Combine(Path, "vae")).FullName;
        using (var m = TinyLuminaNextFolders.Randomize(new AutoencoderKL1D(vae), generator, 0.1)) m.SaveSafetensors(System.IO.Path.Combine(dir, "diffusion_pytorch_model.safetensors"));
        AudioModelConfigs.WriteVae(vae, 0.5, System.IO.Path.Combine(dir, "config.json"));
        dir = Directory.CreateDirectory(System.IO.Path.Combine(Path, "vocoder")).FullName;
        using (var m = TinyLuminaNextFolders.Randomize(new BigVGAN(BigVGANConfig.FromJson(vocoderJson)), generator, 0.05)) m.SaveSafetensors(System.IO.Path.Combine(dir, "model.safetensors"));
        File.WriteAllText(System.IO.Path.Combine(dir, "config.json"), vocoderJson);
        dir = Directory.CreateDirectory(System.IO.Path.Combine(Path, "text_encoder")).FullName;
        using (var m = TinyLuminaNextFolders.Randomize(new T5EncoderModel(t5), generator, 0.2)) m.SaveSafetensors(System.IO.Path.Combine(dir, "model.safetensors"));
        File.WriteAllText(System.IO.Path.Combine(dir, "config.json"), new JsonObject
        {
            ["model_type"] = "t5", ["vocab_size"] = t5.VocabSize, ["d_model"] = t5.DModel, ["d_kv"] = t5.DKv, ["d_ff"] = t5.DFf,
            ["num_layers"] = t5.NumLayers, ["num_heads"] = t5.NumHeads, ["feed_forward_proj"] = "gated-gelu", ["pad_token_id"] = 0, ["eos_token_id"] = 1,
        }.ToJsonString());
        dir = Directory.CreateDirectory(System.IO.Path.Combine(Path, "tokenizer")).FullName;
        File.Copy(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Golden.WeightsPath("t5"))!, "tokenizers", "t5_like.model"), System.IO.Path.Combine(dir, "spiece.model"));
    }

    public string Path { get; }

    public void Dispose() => temp.Dispose();
}
