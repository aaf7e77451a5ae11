using Lumina.Pipelines;

namespace Lumina.Audio;

/// <summary>Defaults of a text-to-audio pipeline (upstream Lumina-T2Music's sampler).</summary>
public sealed record TextToAudioSettings
{
    /// <summary>Euler steps: upstream integrates on <c>linspace(0, 1, 25)</c>, 24 steps.</summary>
    public int NumInferenceSteps { get; init; } = 24;

    /// <summary>Classifier-free guidance scale, applied to every channel.</summary>
    public double GuidanceScale { get; init; } = 3.0;

    /// <summary>Checks every field; the exception's <c>ParamName</c> names the bad one.</summary>
    public void Validate()
    {
        RequestValidation.Steps(NumInferenceSteps, nameof(NumInferenceSteps));
        RequestValidation.NonNegative(GuidanceScale, nameof(GuidanceScale), "1 disables guidance.");
    }
}
