using Lumina.Core.Tests.Autoencoders;
using Lumina.Core.Tests.DiT;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Models.Vocoders;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Precision;

/// <summary>
/// Every golden part run with its weights in bfloat16 (loaded from the fp32 golden files through the loader's one
/// reused conversion buffer) against the fp32 upstream output. The error is measured relative to the output's largest
/// magnitude, <c>max|bf16 − golden| / max|golden|</c>, and bounded per part; docs/parity-report.md lists each measured
/// figure beside its bound. bf16 keeps 8 mantissa bits (relative rounding 2⁻⁹ ≈ 2e-3 per value), so after a few layers
/// about 1e-2 is the expected scale. The bf16 matmuls are emulated on CPUs without AVX512-BF16/AMX, which these tiny
/// configurations keep cheap.
/// </summary>
public sealed class BFloat16ParityTests(ITestOutputHelper output)
{
    private const ScalarType Bf16 = ScalarType.BFloat16;

    private double Check(string part, string what, Tensor expected, Tensor actual, double bound)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64);
        var a = actual.to_type(ScalarType.Float64);
        Assert.True(a.isfinite().all().item<bool>(), $"{part} {what}: the bf16 output has non-finite values");
        var relative = (a - e).abs().max().item<double>() / e.abs().max().item<double>();
        output.WriteLine($"{part} {what}: max|bf16 − fp32 golden| / max|golden| = {relative:E2} (bound {bound:E1})");
        Assert.True(relative <= bound, $"{part} {what}: bf16 error {relative:E2} of the largest magnitude exceeds the bound {bound:E1}");
        return relative;
    }

    [Fact]
    public void NextDiT()
    {
        using var model = new NextDiT(NextDiTParityTests.GoldenConfig(), dtype: Bf16);
        model.LoadSafetensors(Golden.WeightsPath("nextdit"));
        model.eval();
        Assert.All(model.parameters(), p => Assert.Equal(Bf16, p.dtype));
        using var cases = Golden.OpenCases("nextdit");
        using var scope = NewDisposeScope();
        Tensor result;
        using (no_grad()) result = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        Assert.Equal(Bf16, result.dtype);
        Check("nextdit", "out.forward", cases.Read("out.forward"), result, 2e-2);
    }

    [Fact]
    public void FlagDiT()
    {
        using var model = new FlagDiT(FlagDiTParityTests.GoldenConfig(), dtype: Bf16);
        model.LoadSafetensors(Golden.WeightsPath("flagdit"));
        model.eval();
        using var cases = Golden.OpenCases("flagdit");
        using var scope = NewDisposeScope();
        Tensor result;
        using (no_grad()) result = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        Check("flagdit", "out.forward", cases.Read("out.forward"), result, 1.5e-2);
    }

    [Fact]
    public void MusicDiT()
    {
        using var model = new MusicDiT(MusicDiTParityTests.GoldenConfig(), dtype: Bf16);
        model.LoadSafetensors(Golden.WeightsPath("music_dit"));
        model.eval();
        using var cases = Golden.OpenCases("music_dit");
        using var scope = NewDisposeScope();
        Tensor result;
        using (no_grad()) result = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("context"));
        Check("music_dit", "out.forward", cases.Read("out.forward"), result, 1.5e-2);
    }

    [Fact]
    public void Gemma()
    {
        using var model = new DecoderTextModel(GemmaConfig.FromJson(Golden.Json("gemma")["config"]!.ToJsonString()), dtype: Bf16);
        model.LoadSafetensors(Golden.WeightsPath("gemma"));
        using var cases = Golden.OpenCases("gemma");
        using var scope = NewDisposeScope();
        using var hidden = model.HiddenState(cases.Read("input_ids"), cases.Read("attention_mask"), -2);
        Check("gemma", "out.hidden_states_m2", cases.Read("out.hidden_states_m2"), hidden, 2e-2);
    }

    [Fact]
    public void Gemma2()
    {
        using var model = new DecoderTextModel(Gemma2Config.FromJson(Golden.Json("gemma2")["config"]!.ToJsonString()), dtype: Bf16);
        model.LoadSafetensors(Golden.WeightsPath("gemma2"));
        using var cases = Golden.OpenCases("gemma2");
        using var scope = NewDisposeScope();
        using var result = model.Forward(cases.Read("input_ids"), cases.Read("attention_mask"));
        Check("gemma2", "out.last_hidden_state", cases.Read("out.last_hidden_state"), result.LastHiddenState, 2e-2);
    }

    [Fact]
    public void Llama()
    {
        using var model = new DecoderTextModel(LlamaConfig.FromJson(Golden.Json("llama")["config"]!.ToJsonString()), dtype: Bf16);
        model.LoadSafetensors(Golden.WeightsPath("llama"));
        using var cases = Golden.OpenCases("llama");
        using var scope = NewDisposeScope();
        using var result = model.Forward(cases.Read("input_ids"));
        Check("llama", "out.last_hidden_state", cases.Read("out.last_hidden_state"), result.LastHiddenState, 2e-2);
    }

    [Fact]
    public void T5()
    {
        using var model = new T5EncoderModel(T5Config.FromJson(Golden.Json("t5")["config"]!.ToJsonString()), dtype: Bf16);
        model.LoadSafetensors(Golden.WeightsPath("t5"));
        using var cases = Golden.OpenCases("t5");
        using var scope = NewDisposeScope();
        using var result = model.Forward(cases.Read("input_ids"), cases.Read("attention_mask"));
        Check("t5", "out.last_hidden_state", cases.Read("out.last_hidden_state"), result.LastHiddenState, 5e-2);
    }

    [Fact]
    public void Vae()
    {
        var config = AutoencoderKLConfig.FromJson(Golden.Json("vae")["config"]!.ToJsonString(), "vae.json");
        using var vae = new AutoencoderKL(config, dtype: Bf16);
        vae.LoadSafetensors(Golden.WeightsPath("vae"));
        vae.eval();
        using var cases = Golden.OpenCases("vae");
        using var scope = NewDisposeScope();
        using var dist = vae.Encode(cases.Read("image").to_type(Bf16), VaeTilingOptions.Disabled);
        Check("vae", "out.encode.mean", cases.Read("out.encode.mean"), dist.Mean, 3e-2);
        var decoded = vae.Decode(cases.Read("z").to_type(Bf16), VaeTilingOptions.Disabled);
        Check("vae", "out.decode", cases.Read("out.decode"), decoded, 3e-2);
    }

    [Fact]
    public void FluxVae()
    {
        using var vae = new AutoencoderKL(FluxVaeParityTests.GoldenConfig(), dtype: Bf16);
        vae.LoadSafetensors(Golden.WeightsPath("vae_flux"));
        vae.eval();
        using var cases = Golden.OpenCases("vae_flux");
        using var scope = NewDisposeScope();
        using var dist = vae.Encode(cases.Read("image").to_type(Bf16), VaeTilingOptions.Disabled);
        Check("vae_flux", "out.encode.mean", cases.Read("out.encode.mean"), dist.Mean, 3e-2);
        Check("vae_flux", "out.decode", cases.Read("out.decode"), vae.Decode(cases.Read("z").to_type(Bf16), VaeTilingOptions.Disabled), 3e-2);
    }

    [Fact]
    public void MusicVae()
    {
        using var vae = new AutoencoderKL1D(AutoencoderKL1DParityTests.GoldenConfig(), dtype: Bf16);
        vae.LoadSafetensors(Golden.WeightsPath("music_vae"));
        vae.eval();
        using var cases = Golden.OpenCases("music_vae");
        using var scope = NewDisposeScope();
        using var dist = vae.Encode(cases.Read("mel").to_type(Bf16));
        Check("music_vae", "out.encode.mean", cases.Read("out.encode.mean"), dist.Mean, 1.5e-2);
        Check("music_vae", "out.decode", cases.Read("out.decode"), vae.Decode(cases.Read("z").to_type(Bf16)), 3e-2);
    }

    [Fact]
    public void Vocoder()
    {
        using var vocoder = new BigVGAN(BigVGANConfig.FromJson(Golden.Json("vocoder")["h"]!.ToJsonString(), "vocoder.json"), dtype: Bf16);
        Assert.True(vocoder.LoadCheckpoint(Golden.WeightsPath("vocoder")).IsExactMatch);
        vocoder.eval();
        using var cases = Golden.OpenCases("vocoder");
        using var scope = NewDisposeScope();
        Check("vocoder", "out.wav", cases.Read("out.wav"), vocoder.Vocode(cases.Read("mel").to_type(Bf16)), 5e-2);
    }
}
