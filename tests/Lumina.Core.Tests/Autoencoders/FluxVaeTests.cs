using System.Text.RegularExpressions;
using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Autoencoders;

/// <summary>
/// The FLUX VAE (Lumina-Image 2.0's) against diffusers (golden part <c>vae_flux</c>: 16 latent channels, no
/// quant/post-quant convs, scaling 0.3611, shift 0.1159), loaded strictly from the diffusers keys.
/// </summary>
public sealed class FluxVaeParityTests : IDisposable
{
    private readonly AutoencoderKL _vae;
    private readonly SafetensorsFile _cases;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public FluxVaeParityTests(Xunit.Abstractions.ITestOutputHelper output)
    {
        _output = output;
        _vae = new AutoencoderKL(GoldenConfig());
        _vae.LoadSafetensors(Golden.WeightsPath("vae_flux"));
        _vae.eval();
        _cases = Golden.OpenCases("vae_flux");
    }

    internal static AutoencoderKLConfig GoldenConfig() =>
        AutoencoderKLConfig.FromJson(Golden.Json("vae_flux")["config"]!.ToJsonString(), "vae_flux.json");

    [Fact]
    public void GoldenConfigHasNoQuantConvsAndALatentShift()
    {
        var c = _vae.Config;
        Assert.False(c.UseQuantConv);
        Assert.False(c.UsePostQuantConv);
        Assert.Equal(16, c.LatentChannels);
        Assert.Equal(0.3611, c.ScalingFactor);
        Assert.Equal(0.1159, c.ShiftFactor);
        var keys = _vae.state_dict().Keys;
        Assert.DoesNotContain(keys, k => k.Contains("quant_conv", StringComparison.Ordinal));
    }

    [Fact]
    public void EncodeMeanStdAndLogVarMatchDiffusers()
    {
        using var scope = NewDisposeScope();
        using var dist = _vae.Encode(_cases.Read("image"), VaeTilingOptions.Disabled);
        var mean = TensorAssert.Close(_cases.Read("out.encode.mean"), dist.Mean, what: "out.encode.mean");
        var std = TensorAssert.Close(_cases.Read("out.encode.std"), dist.Std, what: "out.encode.std");
        var logvar = TensorAssert.Close(_cases.Read("out.encode.logvar"), dist.LogVar, what: "out.encode.logvar");
        _output.WriteLine($"vae_flux encode: mean {mean:E2}, std {std:E2}, logvar {logvar:E2}");
    }

    [Fact]
    public void DecodeMatchesDiffusers()
    {
        using var scope = NewDisposeScope();
        var error = TensorAssert.Close(_cases.Read("out.decode"), _vae.Decode(_cases.Read("z"), VaeTilingOptions.Disabled), what: "out.decode");
        _output.WriteLine($"vae_flux out.decode: {error:E2}");
    }

    [Fact]
    public void DecodeLatentsDividesByScaleThenAddsShiftAndEncodeIsTheInverse()
    {
        using var scope = NewDisposeScope();
        var z = _cases.Read("z");
        // Model latents for this z, written out with Lumina-Image 2.0's constants: (z − 0.1159) · 0.3611.
        var latents = (z - 0.1159) * 0.3611;
        TensorAssert.Close(latents, _vae.ScaleLatents(z), what: "ScaleLatents");
        TensorAssert.Close(z, _vae.UnscaleLatents(latents), what: "UnscaleLatents = latents / 0.3611 + 0.1159");
        TensorAssert.Close(_cases.Read("out.decode"), _vae.DecodeLatents(latents, VaeTilingOptions.Disabled), what: "decode(latents / 0.3611 + 0.1159)");
        // EncodeToLatents samples the posterior and then scales: mean + std·ε shifted and scaled.
        using var dist = _vae.Encode(_cases.Read("image"), VaeTilingOptions.Disabled);
        var eps = randn(dist.Mean.shape, generator: new Generator(5));
        var expected = (dist.Mean + dist.Std * eps - 0.1159) * 0.3611;
        TensorAssert.Close(expected, _vae.EncodeToLatents(_cases.Read("image"), new Generator(5), VaeTilingOptions.Disabled), what: "EncodeToLatents");
    }

    [Fact]
    public void DecodeOfTheDiffusersPipelineLatentMatchesItsImage()
    {
        // lumina2_diffusers ran this VAE at the end of its pipeline: vae_input = latent / 0.3611 + 0.1159, image = (x/2 + 0.5).clamp(0, 1).
        using var pipe = Golden.OpenCases("lumina2_diffusers");
        using var scope = NewDisposeScope();
        var latent = pipe.Read("out.pipe.default.latent");
        TensorAssert.Close(pipe.Read("out.pipe.default.vae_input"), _vae.UnscaleLatents(latent), what: "vae_input");
        var image = _vae.DecodeLatents(latent, VaeTilingOptions.Disabled).div(2).add(0.5).clamp(0, 1);
        var error = TensorAssert.Close(pipe.Read("out.pipe.default.image"), image, what: "out.pipe.default.image");
        _output.WriteLine($"lumina2_diffusers out.pipe.default.image: {error:E2}");
    }

    public void Dispose()
    {
        _cases.Dispose();
        _vae.Dispose();
    }
}

public sealed partial class FluxVaeLayoutTests
{
    [Fact]
    public void FullSizePresetHasTheReleasedCountsOnTheMetaDevice()
    {
        using var vae = new AutoencoderKL(AutoencoderKLConfig.FluxVae, new Device("meta"));
        var state = vae.state_dict();
        Assert.Equal(244, state.Count);
        Assert.Equal(83_819_683L, state.Values.Sum(t => t.numel()));
        Assert.Equal(34_274_208L, state.Where(kv => kv.Key.StartsWith("encoder.", StringComparison.Ordinal)).Sum(kv => kv.Value.numel()));
        Assert.Equal(49_545_475L, state.Where(kv => kv.Key.StartsWith("decoder.", StringComparison.Ordinal)).Sum(kv => kv.Value.numel()));
        Assert.Equal(8, vae.DownscaleFactor);
    }

    [Fact]
    public void FullSizePresetEqualsTheReleasedConfigJson()
    {
        var released = Golden.Json("vae_flux")["full_size"]!["config"]!.ToJsonString();
        Assert.Equal(AutoencoderKLConfig.FluxVae, AutoencoderKLConfig.FromJson(released, "FLUX.1-dev vae/config.json"));
    }

    /// <summary>
    /// The golden weights renamed to the LDM / FLUX <c>ae.safetensors</c> layout, written out by rules that are spelled out
    /// independently of <see cref="VaeKeyMap"/> (below), then read back through <see cref="AutoencoderKL.FromSingleFile"/>.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("first_stage_model.")]
    public void AnLdmLayoutFileLoadsStrictlyAndDecodesLikeDiffusers(string prefix)
    {
        using var folder = new TempFolder();
        var path = folder.File("ae.safetensors");
        using (var golden = SafetensorsFile.Open(Golden.WeightsPath("vae_flux")))
        {
            var tensors = golden.Tensors.Select(i =>
            {
                var t = golden.Read(i.Name);
                var ldm = ToLdm(i.Name, blocks: 2);
                if (Regex.IsMatch(ldm, @"mid\.attn_1\.(q|k|v|proj_out)\.weight$")) t = t.reshape(t.shape[0], t.shape[1], 1, 1);
                return new KeyValuePair<string, Tensor>(prefix + ldm, t);
            }).ToList();
            if (prefix.Length > 0) tensors.Add(new("model.diffusion_model.x_embedder.weight", zeros(4, 4)));
            SafetensorsWriter.Write(path, tensors);
            foreach (var kv in tensors) kv.Value.Dispose();
        }
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.True(VaeKeyMap.IsLdmLayout(file.Tensors.Select(t => t.Name)));
            Assert.Contains(file.Tensors, t => t.Name == prefix + "decoder.up.1.upsample.conv.weight");
        }
        using var vae = AutoencoderKL.FromSingleFile(path, FluxVaeParityTests.GoldenConfig());
        using var cases = Golden.OpenCases("vae_flux");
        using var scope = NewDisposeScope();
        TensorAssert.Close(cases.Read("out.decode"), vae.Decode(cases.Read("z"), VaeTilingOptions.Disabled), what: "out.decode via ae.safetensors");
        using var dist = vae.Encode(cases.Read("image"), VaeTilingOptions.Disabled);
        TensorAssert.Close(cases.Read("out.encode.mean"), dist.Mean, what: "out.encode.mean via ae.safetensors");
    }

    [Fact]
    public void ADiffusersLayoutSingleFileLoadsToo()
    {
        using var vae = AutoencoderKL.FromSingleFile(Golden.WeightsPath("vae_flux"), FluxVaeParityTests.GoldenConfig());
        using var cases = Golden.OpenCases("vae_flux");
        using var scope = NewDisposeScope();
        Assert.False(VaeKeyMap.IsLdmLayout(cases.Tensors.Select(t => t.Name)));
        TensorAssert.Close(cases.Read("out.decode"), vae.Decode(cases.Read("z"), VaeTilingOptions.Disabled), what: "out.decode");
    }

    [Fact]
    public void TheWrongConfigForASingleFileFailsWithTheMismatchedKeys()
    {
        var e = Assert.Throws<CheckpointMismatchException>(() => AutoencoderKL.FromSingleFile(Golden.WeightsPath("vae_flux"), FluxVaeParityTests.GoldenConfig() with { UseQuantConv = true }));
        Assert.Contains("quant_conv", e.Message);
        Assert.Throws<FileNotFoundException>(() => AutoencoderKL.FromSingleFile("/nonexistent/ae.safetensors", AutoencoderKLConfig.FluxVae));
    }

    [Theory]
    [InlineData("decoder.up.3.block.2.conv1.weight", "decoder.up_blocks.0.resnets.2.conv1.weight")]
    [InlineData("decoder.up.0.block.0.nin_shortcut.bias", "decoder.up_blocks.3.resnets.0.conv_shortcut.bias")]
    [InlineData("decoder.up.1.upsample.conv.weight", "decoder.up_blocks.2.upsamplers.0.conv.weight")]
    [InlineData("encoder.down.2.downsample.conv.bias", "encoder.down_blocks.2.downsamplers.0.conv.bias")]
    [InlineData("encoder.mid.attn_1.proj_out.weight", "encoder.mid_block.attentions.0.to_out.0.weight")]
    [InlineData("decoder.mid.attn_1.norm.bias", "decoder.mid_block.attentions.0.group_norm.bias")]
    [InlineData("decoder.mid.block_2.norm2.weight", "decoder.mid_block.resnets.1.norm2.weight")]
    [InlineData("encoder.norm_out.weight", "encoder.conv_norm_out.weight")]
    [InlineData("first_stage_model.encoder.conv_in.weight", "encoder.conv_in.weight")]
    public void FullSizeLdmKeysMapToTheModulesKeys(string ldm, string diffusers)
    {
        Assert.Equal(diffusers, VaeKeyMap.FromLdm(ldm, blocks: 4));
        using var vae = new AutoencoderKL(AutoencoderKLConfig.FluxVae, new Device("meta"));
        Assert.Contains(diffusers, vae.state_dict().Keys);
    }

    // diffusers → LDM for the test file, spelled out rule by rule (the FLUX ae.safetensors names).
    private static string ToLdm(string key, int blocks)
    {
        var m = Regex.Match(key, @"^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$");
        if (m.Success) return $"encoder.down.{m.Groups[1]}.block.{m.Groups[2]}.{Shortcut(m.Groups[3].Value)}";
        m = Regex.Match(key, @"^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.(.+)$");
        if (m.Success) return $"encoder.down.{m.Groups[1]}.downsample.{m.Groups[2]}";
        m = Regex.Match(key, @"^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$");
        if (m.Success) return $"decoder.up.{blocks - 1 - int.Parse(m.Groups[1].Value)}.block.{m.Groups[2]}.{Shortcut(m.Groups[3].Value)}";
        m = Regex.Match(key, @"^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.(.+)$");
        if (m.Success) return $"decoder.up.{blocks - 1 - int.Parse(m.Groups[1].Value)}.upsample.{m.Groups[2]}";
        m = Regex.Match(key, @"^(encoder|decoder)\.mid_block\.resnets\.(\d)\.(.+)$");
        if (m.Success) return $"{m.Groups[1]}.mid.block_{int.Parse(m.Groups[2].Value) + 1}.{m.Groups[3]}";
        m = Regex.Match(key, @"^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(.+)$");
        if (m.Success)
        {
            var name = m.Groups[2].Value switch { "group_norm" => "norm", "to_q" => "q", "to_k" => "k", "to_v" => "v", _ => "proj_out" };
            return $"{m.Groups[1]}.mid.attn_1.{name}.{m.Groups[3]}";
        }
        return key.Replace("conv_norm_out", "norm_out", StringComparison.Ordinal);
    }

    private static string Shortcut(string rest) => rest.Replace("conv_shortcut", "nin_shortcut", StringComparison.Ordinal);
}

/// <summary>Tiling works for the FLUX VAE (16 latent channels, no post-quant conv) within the SDXL tiling tests' bound.</summary>
public sealed class FluxVaeTilingTests
{
    [Fact]
    public void TiledDecodeStaysWithinTheTilingTestsBound()
    {
        using var vae = new AutoencoderKL(FluxVaeParityTests.GoldenConfig());
        vae.LoadSafetensors(Golden.WeightsPath("vae_flux"));
        vae.eval();
        using var scope = NewDisposeScope();
        var latent = randn([1, 16, 40, 112], generator: new Generator(7));
        var untiled = vae.Decode(latent, VaeTilingOptions.Disabled);
        var tiled = vae.Decode(latent, TiledVaeRun.Options(wholeImage: true));
        Assert.Equal(untiled.shape, tiled.shape);
        var diff = (tiled - untiled).abs().amax([0, 1, 2]).data<float>().ToArray();
        var outside = Enumerable.Range(0, diff.Length).Where(c => !TiledVaeRun.InSeamBand(c)).Max(c => diff[c]);
        var inside = Enumerable.Range(0, diff.Length).Where(TiledVaeRun.InSeamBand).Max(c => diff[c]);
        Assert.InRange(outside, 0f, 0.04f);
        Assert.InRange(inside, 0f, 0.12f);
        Assert.True(inside > 0, "tiles were expected to differ a little at the seams; an exact match means tiling did not run");
        var single = vae.Decode(latent[.., .., ..20, ..24], TiledVaeRun.Options(wholeImage: true) with { TileSize = 64 });
        TensorAssert.Close(vae.Decode(latent[.., .., ..20, ..24], VaeTilingOptions.Disabled), single, what: "one tile covering the image");
    }
}
