using Lumina.Pipelines;

namespace Lumina.Audio;

/// <summary>
/// What to generate with a text-to-music / text-to-audio pipeline: prompts (one clip each), the clip length, and the
/// sampling settings of <see cref="GenerationRequest"/> (null ones take the pipeline's <see cref="SamplingSettings"/>:
/// upstream Lumina-T2Music's Euler on <c>linspace(0, 1, 25)</c>, i.e. 24 steps). The image-only fields (width, height,
/// RoPE scaling) are refused.
/// </summary>
public sealed record TextToAudioRequest : GenerationRequest
{
    /// <summary>One prompt.</summary>
    public TextToAudioRequest(string prompt) => Prompts = [prompt];

    /// <summary>Several prompts, one clip each.</summary>
    public TextToAudioRequest(IReadOnlyList<string> prompts) => Prompts = prompts;

    /// <summary>The prompts.</summary>
    public IReadOnlyList<string> Prompts { get; init; }

    /// <summary>Clip length in seconds (rounded to whole latent frames; upstream's 256 frames ≈ 8.19 s at 16 kHz).</summary>
    public double DurationSeconds { get; init; } = 8.192;

    private protected override int OutputCount => Prompts?.Count ?? 0;

    /// <inheritdoc />
    public override void Validate()
    {
        RequestValidation.Prompts(Prompts, nameof(Prompts));
        RequestValidation.Positive(DurationSeconds, nameof(DurationSeconds), "Give the clip length in seconds.");
        if (Prompts.Count > RequestValidation.MaxImages)
            throw new ArgumentOutOfRangeException(nameof(Prompts), Prompts.Count, $"At most {RequestValidation.MaxImages} prompts per request.");
        foreach (var (field, set) in new[] { (nameof(Width), Width is not null), (nameof(Height), Height is not null),
                     (nameof(ScaleFactor), ScaleFactor is not null), (nameof(ScaleWatershed), ScaleWatershed is not null) })
            if (set) throw new ArgumentException($"{field} is an image setting; a clip's length is {nameof(DurationSeconds)}. Leave {field} null.", field);
        base.Validate();
    }
}
