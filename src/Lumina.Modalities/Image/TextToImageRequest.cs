namespace Lumina.Pipelines;

/// <summary>
/// What images to generate: prompts, how many per prompt, and the sampling settings of <see cref="GenerationRequest"/>
/// (each null one takes the pipeline's <see cref="SamplingSettings"/>, set through the builder or a preset). Immutable;
/// use <c>with</c> to vary it.
/// </summary>
public record TextToImageRequest : GenerationRequest
{
    /// <summary>One prompt.</summary>
    /// <param name="prompt">What the image should show ("" is allowed: unconditional).</param>
    public TextToImageRequest(string prompt) => Prompts = [prompt];

    /// <summary>Several prompts; each gives <see cref="ImagesPerPrompt"/> images.</summary>
    /// <param name="prompts">The prompts, at least one.</param>
    public TextToImageRequest(IReadOnlyList<string> prompts) => Prompts = prompts;

    /// <summary>The prompts, in output order.</summary>
    public IReadOnlyList<string> Prompts { get; init; }

    /// <summary>How many images each prompt gives (1 to 64 in total).</summary>
    public int ImagesPerPrompt { get; init; } = 1;

    /// <summary>Total number of images: prompts × images per prompt.</summary>
    public int ImageCount => (Prompts?.Count ?? 0) * ImagesPerPrompt;

    private protected override int OutputCount => ImageCount;

    /// <inheritdoc />
    public override void Validate()
    {
        RequestValidation.Prompts(Prompts, nameof(Prompts));
        RequestValidation.PerPrompt(ImagesPerPrompt, Prompts.Count);
        base.Validate();
    }
}
