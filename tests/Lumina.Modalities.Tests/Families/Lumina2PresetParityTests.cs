using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Solvers;
using Lumina.Testing;
using TorchSharp;
using Xunit.Abstractions;

namespace Lumina.Modalities.Tests.Families;

/// <summary>
/// The Lumina-Image 2.0 presets, through a <see cref="TextToImagePipeline"/>'s own sampling (settings → guidance →
/// loop), reproduce the golden runs of upstream's <c>sample.py</c> (DPM-Solver++; <see cref="TextToImagePresets.Lumina2"/>'s
/// guidance), its truncated run (<see cref="TextToImagePresets.Lumina2Demo"/>'s), and diffusers' <c>Lumina2Pipeline</c>
/// (<see cref="TextToImagePresets.Lumina2Diffusers"/>), on the golden tiny transformer and caption features.
/// </summary>
public sealed class Lumina2PresetParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Runs => new() { "sample_py", "trunc0.2", "default", "nonorm", "trunc0.5" };

    [Theory]
    [MemberData(nameof(Runs))]
    public void ThePresetsReproduceUpstreamAndDiffusers(string run)
    {
        var upstream = run is "sample_py" or "trunc0.2";
        var part = upstream ? "lumina2_dpm" : "lumina2_diffusers";
        var config = upstream ? GoldenLumina2.UpstreamConfig() : GoldenLumina2.DiffusersConfig();
        using var cases = Golden.OpenCases(part);
        using var pipe = Pipeline(config, part);
        var settings = run switch
        {
            "sample_py" => TextToImagePresets.Lumina2 with { Solver = OdeMethod.DpmSolver, NumInferenceSteps = 6 },
            "trunc0.2" => TextToImagePresets.Lumina2Demo with { Solver = OdeMethod.DpmSolver, NumInferenceSteps = 6, GuidanceTruncateAtTime = 0.2 },
            "default" => TextToImagePresets.Lumina2Diffusers with { NumInferenceSteps = 6 },
            "nonorm" => TextToImagePresets.Lumina2Diffusers with { NumInferenceSteps = 6, GuidanceRescaleToConditionalNorm = false },
            _ => TextToImagePresets.Lumina2Diffusers with { NumInferenceSteps = 6, GuidanceTruncateAfterStepFraction = 0.5 },
        };
        using var scope = torch.NewDisposeScope();
        var (noise, features, mask, expected) = upstream
            ? (cases.Read("z").narrow(0, 0, 1), cases.Read("cap_feats"), cases.Read("cap_mask"), cases.Read($"out.dpm.{run}").narrow(0, 0, 1))
            : (cases.Read("pipe.latents"), torch.cat([cases.Read("pipe.prompt_embeds"), cases.Read("pipe.negative_prompt_embeds")], 0),
                torch.cat([cases.Read("pipe.prompt_attention_mask"), cases.Read("pipe.negative_prompt_attention_mask")], 0), cases.Read($"out.pipe.{run}.latent"));
        var captions = new CaptionEmbeddings(features, mask);
        using var latents = pipe.SampleLatents(noise, captions, settings);
        var error = TensorAssert.Close(expected, latents, atol: 1e-4, rtol: 1e-4, what: run);
        output.WriteLine($"{run}: max |Δ| {error:E2}");
    }

    // The golden transformer, strictly loaded; the encoder and VAE are placeholders of the right widths that
    // SampleLatents never calls (it takes caption features and returns latents).
    private static TextToImagePipeline Pipeline(Lumina2Config config, string part)
    {
        var model = new Lumina2Transformer(config);
        Assert.True(Lumina2Checkpoint.Load(model, Golden.WeightsPath(part)).Report.IsExactMatch);
        return new TextToImagePipeline(model, new UnusedEncoder(config.CaptionDim), new AutoencoderKL(TinyLumina2.Vae with { LatentChannels = config.InChannels }));
    }

    private sealed class UnusedEncoder(int width) : ICaptionEncoder
    {
        private readonly torch.nn.Module module = torch.nn.Identity();

        public torch.nn.Module Module => module;

        public int FeatureSize => width;

        public CaptionEmbeddings Encode(IReadOnlyList<string> prompts, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("This test passes caption features directly.");

        public void Dispose() => module.Dispose();
    }
}
