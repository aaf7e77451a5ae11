using Lumina.Pipelines;

namespace Lumina.Audio;

/// <summary>
/// What to generate with a text-to-music / text-to-audio pipeline. Null settings take the pipeline's defaults
/// (upstream Lumina-T2Music: Euler on <c>linspace(0, 1, 25)</c>, i.e. 24 steps).
/// </summary>
public sealed record TextToAudioRequest
{
    /// <summary>One prompt.</summary>
    public TextToAudioRequest(string prompt) => Prompts = [prompt];

    /// <summary>Several prompts, one clip each.</summary>
    public TextToAudioRequest(IReadOnlyList<string> prompts) => Prompts = prompts;

    /// <summary>The prompts.</summary>
    public IReadOnlyList<string> Prompts { get; init; }

    /// <summary>The unconditional prompt of classifier-free guidance (default "").</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Clip length in seconds (rounded to whole latent frames; upstream's 256 frames ≈ 8.19 s at 16 kHz).</summary>
    public double DurationSeconds { get; init; } = 8.192;

    /// <summary>Euler steps (grid intervals); null = the pipeline default (24).</summary>
    public int? NumInferenceSteps { get; init; }

    /// <summary>Classifier-free guidance scale on every channel; null = the pipeline default.</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>Seed of the first clip's noise (clip i uses seed + i); null = random (reported in the result).</summary>
    public long? Seed { get; init; }

    /// <summary>Checks every field; the exception's <c>ParamName</c> names the bad one.</summary>
    public void Validate()
    {
        RequestValidation.Prompts(Prompts, nameof(Prompts));
        if (NegativePrompt is null) throw new ArgumentNullException(nameof(NegativePrompt), "Use \"\" for no negative prompt.");
        RequestValidation.Positive(DurationSeconds, nameof(DurationSeconds), "Give the clip length in seconds.");
        RequestValidation.Steps(NumInferenceSteps, nameof(NumInferenceSteps));
        RequestValidation.NonNegative(GuidanceScale, nameof(GuidanceScale), "1 disables guidance.");
        if (Prompts.Count > RequestValidation.MaxImages)
            throw new ArgumentOutOfRangeException(nameof(Prompts), Prompts.Count, $"At most {RequestValidation.MaxImages} prompts per request.");
        RequestValidation.Seeds(Seed, Prompts.Count, nameof(Seed));
    }
}
