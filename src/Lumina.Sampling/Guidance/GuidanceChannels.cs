namespace Lumina.Guidance;

/// <summary>Which output channels classifier-free guidance acts on.</summary>
public enum GuidanceChannels
{
    /// <summary>
    /// Lumina's upstream rule: guidance on channels 0..2 only; channel 3 (and any further channel) keeps the raw
    /// per-half model output. This is what the released Lumina samplers do ("for exact reproducibility").
    /// </summary>
    LuminaFirstThree = 0,

    /// <summary>Standard classifier-free guidance on every channel.</summary>
    All = 1,
}
