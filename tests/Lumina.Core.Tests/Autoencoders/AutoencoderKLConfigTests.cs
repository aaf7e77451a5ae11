using Lumina.Models.Autoencoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Autoencoders;

public sealed class AutoencoderKLConfigTests
{
    // The vae/config.json of stabilityai/sdxl-vae, as published.
    private const string SdxlVaeConfigJson = """
    {
      "_class_name": "AutoencoderKL",
      "_diffusers_version": "0.18.0.dev0",
      "act_fn": "silu",
      "block_out_channels": [128, 256, 512, 512],
      "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
      "in_channels": 3,
      "latent_channels": 4,
      "layers_per_block": 2,
      "norm_num_groups": 32,
      "out_channels": 3,
      "sample_size": 1024,
      "scaling_factor": 0.13025,
      "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
      "force_upcast": true
    }
    """;

    [Fact]
    public void SdxlPresetHas83653863ParametersOnTheMetaDevice()
    {
        using var vae = new AutoencoderKL(AutoencoderKLConfig.SdxlVae, new Device("meta"));
        var count = vae.parameters().Sum(p => p.numel());
        Assert.Equal(83_653_863L, count);
        Assert.All(vae.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
    }

    [Fact]
    public void PublishedSdxlConfigParsesToThePreset()
    {
        var parsed = AutoencoderKLConfig.FromJson(SdxlVaeConfigJson);
        Assert.Equal(AutoencoderKLConfig.SdxlVae, parsed);
        Assert.Equal(8, parsed.DownscaleFactor);
        Assert.Null(parsed.ShiftFactor);
    }

    [Fact]
    public void Sd1PresetDiffersOnlyInScalingAndSampleSize()
    {
        var sd1 = AutoencoderKLConfig.StableDiffusion1Vae;
        Assert.Equal(0.18215, sd1.ScalingFactor);
        Assert.Equal(AutoencoderKLConfig.SdxlVae with { ScalingFactor = 0.18215, SampleSize = 512 }, sd1);
    }

    [Fact]
    public void ShiftFactorIsReadAndAppliedAroundScaling()
    {
        var config = AutoencoderKLConfig.FromJson("""{"block_out_channels":[32],"norm_num_groups":8,"latent_channels":16,"scaling_factor":0.3611,"shift_factor":0.1159}""");
        Assert.Equal(0.1159, config.ShiftFactor);
        using var vae = new AutoencoderKL(config, new Device("meta"));
        using var z = tensor(new float[] { 1f, -2f }).view(1, 2, 1, 1);
        using var scaled = vae.ScaleLatents(z);
        Assert.Equal((1 - 0.1159) * 0.3611, scaled[0, 0, 0, 0].item<float>(), 5);
        using var back = vae.UnscaleLatents(scaled);
        Assert.Equal(-2f, back[0, 1, 0, 0].item<float>(), 5);
    }

    [Theory]
    [InlineData("""{"down_block_types":["AttnDownEncoderBlock2D"],"block_out_channels":[64]}""", "AttnDownEncoderBlock2D")]
    [InlineData("""{"block_out_channels":[64,128],"down_block_types":["DownEncoderBlock2D"]}""", "must match")]
    [InlineData("""{"block_out_channels":[30]}""", "divisible by norm_num_groups")]
    [InlineData("""{"act_fn":"gelu"}""", "gelu")]
    [InlineData("""not json""", "not valid JSON")]
    public void UnsupportedConfigsFailWithAMessageNamingTheProblem(string json, string expected)
    {
        var e = Assert.Throws<LuminaException>(() => AutoencoderKLConfig.FromJson(json));
        Assert.Contains(expected, e.Message);
    }
}
