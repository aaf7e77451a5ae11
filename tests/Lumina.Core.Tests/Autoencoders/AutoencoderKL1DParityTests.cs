using System.Text.Json.Nodes;
using Lumina.Models.Autoencoders;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Autoencoders;

/// <summary>The 1-D mel VAE against upstream Lumina-T2Music (golden part <c>music_vae</c>), loaded strictly.</summary>
public sealed class AutoencoderKL1DParityTests : IDisposable
{
    private readonly AutoencoderKL1D _vae;
    private readonly SafetensorsFile _cases;

    public AutoencoderKL1DParityTests()
    {
        _vae = new AutoencoderKL1D(GoldenConfig());
        _vae.LoadSafetensors(Golden.WeightsPath("music_vae"));
        _vae.eval();
        _cases = Golden.OpenCases("music_vae");
    }

    internal static AutoencoderKL1DConfig GoldenConfig()
    {
        var json = Golden.Json("music_vae");
        var dd = json["ddconfig"]!;
        Assert.True(dd["double_z"]!.GetValue<bool>());
        static int[] Ints(JsonNode n) => n.AsArray().Select(x => x!.GetValue<int>()).ToArray();
        return new AutoencoderKL1DConfig
        {
            EmbedDim = json["embed_dim"]!.GetValue<int>(),
            InChannels = dd["in_channels"]!.GetValue<int>(),
            OutChannels = dd["out_ch"]!.GetValue<int>(),
            ZChannels = dd["z_channels"]!.GetValue<int>(),
            KernelSize = dd["kernel_size"]!.GetValue<int>(),
            Channels = dd["ch"]!.GetValue<int>(),
            ChannelMultipliers = Ints(dd["ch_mult"]!),
            NumResBlocks = dd["num_res_blocks"]!.GetValue<int>(),
            AttentionLevels = Ints(dd["attn_layers"]!),
            DownsampleLevels = Ints(dd["down_layers"]!),
        };
    }

    [Fact]
    public void EncodeMeanMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        using var dist = _vae.Encode(_cases.Read("mel"));
        TensorAssert.Close(_cases.Read("out.encode.mean"), dist.Mean, what: "out.encode.mean");
    }

    [Fact]
    public void DecodeMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        TensorAssert.Close(_cases.Read("out.decode"), _vae.Decode(_cases.Read("z")), what: "out.decode");
    }

    [Fact]
    public void DecodeRejectsTheWrongLatentChannelsNamingTheShape()
    {
        using var bad = zeros(1, 5, 16);
        var e = Assert.Throws<ArgumentException>(() => _vae.Decode(bad));
        Assert.Contains("[1, 5, 16]", e.Message);
    }

    [Fact]
    public void LuminaMusicPresetBuildsOnMetaWithUpstreamShapes()
    {
        using var vae = new AutoencoderKL1D(AutoencoderKL1DConfig.LuminaMusic, new Device("meta"));
        var state = vae.state_dict();
        Assert.Equal([40L, 40L, 1L], state["quant_conv.weight"].shape);
        Assert.Equal([384L, 80L, 5L], state["encoder.conv_in.weight"].shape);
        Assert.Equal([1536L, 1536L, 3L], state["decoder.mid.block_1.conv1.weight"].shape);
        Assert.True(state.ContainsKey("decoder.up.1.upsample.conv.weight"));
        Assert.DoesNotContain(state.Keys, k => k.Contains(".attn."));
    }

    public void Dispose()
    {
        _cases.Dispose();
        _vae.Dispose();
    }
}
