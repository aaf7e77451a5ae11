using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Lumina.Audio;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Models.Vocoders;
using Lumina.Pipelines;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Audio;

public sealed class TextToAudioTests(TinyMusicFolder folder) : IClassFixture<TinyMusicFolder>
{
    [Fact]
    public async Task GeneratesDecodableWavOfTheRequestedDurationDeterministically()
    {
        using var pipe = await LuminaPipeline.TextToAudio().FromPretrained(folder.Path).WithSteps(3).BuildAsync();
        Assert.Equal(800, pipe.SampleRate);
        Assert.Equal(16, pipe.SamplesPerLatentFrame); // VAE ×2, BigVGAN hop 8
        var request = new TextToAudioRequest("calm piano over soft rain") { DurationSeconds = 1.0, Seed = 4 };
        var result = await pipe.GenerateAsync(request);
        var again = await pipe.GenerateAsync(request);
        var other = await pipe.GenerateAsync(request with { Seed = 5 });

        var wav = result.ToWav(0);
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal("WAVE", System.Text.Encoding.ASCII.GetString(wav, 8, 4));
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(22)));   // mono
        Assert.Equal(800, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(24))); // sample rate
        Assert.Equal(800, result.Waveforms[0].Length);                             // 1 s = 50 latent frames × 16
        Assert.Equal(wav, again.ToWav(0));
        Assert.NotEqual(result.Waveforms[0], other.Waveforms[0]);
        Assert.All(result.Waveforms[0], s => Assert.InRange(s, -1f, 1f));
        Assert.True(result.Waveforms[0].Distinct().Count() > 100, $"distinct {result.Waveforms[0].Distinct().Count()}, min {result.Waveforms[0].Min()}, max {result.Waveforms[0].Max()}");
    }

    [Fact]
    public async Task BFloat16PipelineGeneratesAClip()
    {
        using var pipe = await LuminaPipeline.TextToAudio().FromPretrained(folder.Path).WithDevice(CPU, ScalarType.BFloat16).WithSteps(2).BuildAsync();
        Assert.Equal(ScalarType.BFloat16, pipe.Vocoder.parameters().First().dtype);
        var clip = await pipe.GenerateAsync(new TextToAudioRequest("drums") { DurationSeconds = 0.5, Seed = 1 });
        Assert.Equal(400, clip.Waveforms[0].Length);
    }

    [Fact]
    public async Task BadRequestsNameTheFieldBeforeAnyModelRuns()
    {
        using var pipe = await LuminaPipeline.TextToAudio().FromPretrained(folder.Path).BuildAsync();
        var good = new TextToAudioRequest("x") { DurationSeconds = 1 };
        async Task<string?> Field(TextToAudioRequest r) => (await Assert.ThrowsAnyAsync<ArgumentException>(() => pipe.GenerateAsync(r))).ParamName;
        Assert.Equal("DurationSeconds", await Field(good with { DurationSeconds = 0 }));
        Assert.Equal("DurationSeconds", await Field(good with { DurationSeconds = double.NaN }));
        Assert.Equal("DurationSeconds", await Field(good with { DurationSeconds = 60 })); // beyond max_len 100 frames = 2 s
        Assert.Equal("NumInferenceSteps", await Field(good with { NumInferenceSteps = 0 }));
        Assert.Equal("GuidanceScale", await Field(good with { GuidanceScale = double.NaN }));
        Assert.Equal("Prompts", await Field(good with { Prompts = [] }));
        Assert.Equal("Width", await Field(good with { Width = 32 })); // a clip has no width (NegativePrompt null now means the pipeline default)
        Assert.Equal(2.0, pipe.MaxDurationSeconds);
    }
}
