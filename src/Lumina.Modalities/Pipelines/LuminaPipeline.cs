namespace Lumina.Pipelines;

/// <summary>
/// Entry point of the fluent API:
/// <code>
/// using var pipe = await LuminaPipeline.TextToImage()
///     .FromPretrained("Alpha-VLLM/Lumina-Next-SFT-diffusers")
///     .WithSolver(OdeMethod.Midpoint, steps: 30).WithTimeShift(4)
///     .BuildAsync(cancellationToken);
/// </code>
/// </summary>
public static class LuminaPipeline
{
    /// <summary>Starts a text-to-image pipeline (Lumina-Next).</summary>
    public static TextToImagePipelineBuilder TextToImage() => new();

    /// <summary>Starts a text-to-video pipeline (a video Next-DiT: frames joined by <c>[nextframe]</c>, 3-D RoPE).</summary>
    public static Video.TextToVideoPipelineBuilder TextToVideo() => new();

    /// <summary>Starts a text-to-music / text-to-audio pipeline (T5 → music DiT → 1-D VAE → BigVGAN → WAV).</summary>
    public static Audio.TextToAudioPipelineBuilder TextToAudio() => new();
}
