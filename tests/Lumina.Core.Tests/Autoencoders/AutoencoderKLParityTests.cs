using Lumina.Models.Autoencoders;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Autoencoders;

/// <summary>The 2-D AutoencoderKL against diffusers (golden part <c>vae</c>), loaded strictly from the upstream keys.</summary>
public sealed class AutoencoderKLParityTests : IDisposable
{
    private readonly AutoencoderKL _vae;
    private readonly SafetensorsFile _cases;

    public AutoencoderKLParityTests()
    {
        var config = AutoencoderKLConfig.FromJson(Golden.Json("vae")["config"]!.ToJsonString(), "vae.json");
        _vae = new AutoencoderKL(config);
        _vae.LoadSafetensors(Golden.WeightsPath("vae"));
        _vae.eval();
        _cases = Golden.OpenCases("vae");
    }

    [Fact]
    public void GoldenConfigParsesToTheTinySdxlLayout()
    {
        Assert.Equal([32, 64], _vae.Config.BlockOutChannels);
        Assert.Equal(8, _vae.Config.NormNumGroups);
        Assert.Equal(0.13025, _vae.Config.ScalingFactor);
        Assert.Equal(2, _vae.DownscaleFactor);
    }

    [Fact]
    public void EncodeMeanAndStdMatchDiffusers()
    {
        using var scope = NewDisposeScope();
        var image = _cases.Read("image");
        using var dist = _vae.Encode(image, VaeTilingOptions.Disabled);
        TensorAssert.Close(_cases.Read("out.encode.mean"), dist.Mean, what: "out.encode.mean");
        TensorAssert.Close(_cases.Read("out.encode.std"), dist.Std, what: "out.encode.std");
    }

    [Fact]
    public void DecodeMatchesDiffusers()
    {
        using var scope = NewDisposeScope();
        var decoded = _vae.Decode(_cases.Read("z"), VaeTilingOptions.Disabled);
        TensorAssert.Close(_cases.Read("out.decode"), decoded, what: "out.decode");
    }

    [Fact]
    public void ScaledLatentsRoundTripThroughDecodeLatents()
    {
        using var scope = NewDisposeScope();
        var z = _cases.Read("z");
        var latents = _vae.ScaleLatents(z);
        TensorAssert.Close(z.mul(0.13025), latents, what: "scaled latents");
        var viaScaled = _vae.DecodeLatents(latents, VaeTilingOptions.Disabled);
        TensorAssert.Close(_cases.Read("out.decode"), viaScaled, what: "decode of unscaled latents");
    }

    [Fact]
    public void SampleIsMeanPlusStdTimesSeededNoise()
    {
        using var scope = NewDisposeScope();
        using var dist = _vae.Encode(_cases.Read("image"), VaeTilingOptions.Disabled);
        var a = dist.Sample(new Generator(1234));
        var b = dist.Sample(new Generator(1234));
        var c = dist.Sample(new Generator(99));
        TensorAssert.Equal(a, b, "same seed");
        Assert.False(a.eq(c).all().item<bool>(), "different seeds gave the same sample");
        var eps = randn(dist.Mean.shape, generator: new Generator(1234));
        TensorAssert.Close(dist.Mean + dist.Std * eps, a, what: "mean + std·ε");
    }

    [Fact]
    public void EncodeRejectsWrongChannelCountWithTheShape()
    {
        using var bad = zeros(1, 4, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => _vae.Encode(bad));
        Assert.Contains("[1, 4, 8, 8]", e.Message);
    }

    public void Dispose()
    {
        _cases.Dispose();
        _vae.Dispose();
    }
}

public sealed class AutoencoderKLFromDirectoryTests
{
    [Fact]
    public void LoadsADiffusersFolderAndDecodesLikeDiffusers()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("config.json"), Golden.Json("vae")["config"]!.ToJsonString());
        File.Copy(Golden.WeightsPath("vae"), folder.File("diffusion_pytorch_model.safetensors"));
        using var vae = AutoencoderKL.FromDirectory(folder.Path);
        using var cases = Golden.OpenCases("vae");
        using var scope = NewDisposeScope();
        TensorAssert.Close(cases.Read("out.decode"), vae.Decode(cases.Read("z")), what: "out.decode");
    }

    [Fact]
    public void MissingWeightsSayWhatToDownload()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("config.json"), Golden.Json("vae")["config"]!.ToJsonString());
        var e = Assert.Throws<FileNotFoundException>(() => AutoencoderKL.FromDirectory(folder.Path));
        Assert.Contains("diffusion_pytorch_model.safetensors", e.Message);
    }
}
