using Lumina.Pipelines;

namespace Lumina.Video;

/// <summary>
/// What video to generate: the prompt, the frame count, and the sampling settings of <see cref="GenerationRequest"/>
/// (each null one takes the pipeline's <see cref="SamplingSettings"/>). Prompts are given as for images; one request
/// makes one video, so it holds one prompt. Immutable; use <c>with</c> to vary it.
/// </summary>
public sealed record TextToVideoRequest : GenerationRequest
{
    /// <summary>The most frames one request may ask for.</summary>
    public const int MaxFrames = 256;

    /// <summary>One video of <paramref name="prompt"/>.</summary>
    /// <param name="prompt">What the video should show ("" is allowed: unconditional).</param>
    public TextToVideoRequest(string prompt) => Prompts = [prompt];

    /// <summary>A video of the prompts' one entry (the same shape as <see cref="TextToImageRequest.Prompts"/>).</summary>
    /// <param name="prompts">Exactly one prompt.</param>
    public TextToVideoRequest(IReadOnlyList<string> prompts) => Prompts = prompts;

    /// <summary>The prompt, as a one-entry list (as <see cref="TextToImageRequest.Prompts"/>).</summary>
    public IReadOnlyList<string> Prompts { get; init; }

    /// <summary>Number of frames (1 to <see cref="MaxFrames"/>); each frame is one latent frame (the VAE is per frame).</summary>
    public int Frames { get; init; } = 16;

    private protected override int OutputCount => 1;

    /// <inheritdoc />
    public override void Validate()
    {
        RequestValidation.Prompts(Prompts, nameof(Prompts));
        if (Prompts.Count != 1)
            throw new ArgumentException($"A video request makes one video from one prompt; got {Prompts.Count} prompts. Make one request per prompt.", nameof(Prompts));
        RequestValidation.Count(Frames, MaxFrames, nameof(Frames));
        base.Validate();
    }
}
