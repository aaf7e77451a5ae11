using Lumina.Testing;
using Lumina.Models.DiT;
using Lumina.Pipelines;
using static TorchSharp.torch;

namespace Lumina.Modalities.Tests.Pipelines;

/// <summary>The dtype option reaches every model and a bf16 pipeline still produces an image.</summary>
public sealed class DTypeTests(TinyLuminaNextFolders folders) : IClassFixture<TinyLuminaNextFolders>
{
    [Fact]
    public async Task BFloat16PipelineGeneratesAnImageOfTheRightSize()
    {
        using var pipe = await LuminaPipeline.TextToImage().FromPretrained(folders.Diffusers).WithDevice(CPU, ScalarType.BFloat16).WithSteps(2).BuildAsync();
        Assert.Equal(ScalarType.BFloat16, ((NextDiT)pipe.Transformer).parameters().First().dtype);
        Assert.Equal(ScalarType.BFloat16, pipe.LatentSpace.DType);
        using var result = await pipe.GenerateAsync(TinyLuminaNextFolders.Request());
        Assert.Equal((32, 48), (result.Images[0].Width, result.Images[0].Height));
        using var edited = await pipe.GenerateAsync(new ImageToImageRequest("a blue square", result.Images[0]) { Seed = 2, Strength = 0.7 });
        Assert.Equal((32, 48), (edited.Images[0].Width, edited.Images[0].Height));
    }
}
