using Lumina.Solvers;

namespace Lumina.Pipelines;

/// <summary>
/// Shared checks for request fields. Each failure throws an <see cref="ArgumentException"/> whose
/// <see cref="ArgumentException.ParamName"/> is the request property, so a caller (or a test) can tell which field
/// was wrong before any model runs.
/// </summary>
internal static class RequestValidation
{
    /// <summary>The largest image side accepted (the 1024×4096 panorama preset is the widest upstream demo).</summary>
    public const int MaxSide = 8192;

    /// <summary>The most images one request may ask for.</summary>
    public const int MaxImages = 64;

    /// <summary>Throws unless every seed of <paramref name="count"/> outputs (seed, seed + 1, …) fits in a long, so none wraps around.</summary>
    public static void Seeds(long? seed, int count, string field)
    {
        if (seed is long s && count > 1 && s > long.MaxValue - (count - 1))
            throw new ArgumentOutOfRangeException(field, s,
                $"{field} {s} is too large for {count} outputs: output i uses seed + i, which must stay at most {long.MaxValue}; use a seed of at most {long.MaxValue - (count - 1)}.");
    }

    /// <summary>The most sampling steps one request may ask for.</summary>
    public const int MaxSteps = 1000;

    public static void Side(int value, int multiple, string field)
    {
        if (value < multiple || value > MaxSide || value % multiple != 0)
            throw new ArgumentOutOfRangeException(field, value,
                $"{field} must be a multiple of {multiple} between {multiple} and {MaxSide} pixels (a latent-space model's autoencoder shrinks each side by 8 and its transformer patches by 2; every model accepts multiples of 16); got {value}. Try {Math.Clamp((int)Math.Round(value / (double)multiple) * multiple, multiple, MaxSide)}.");
    }

    public static void Steps(int? value, string field)
    {
        if (value is { } v && (v < 1 || v > MaxSteps))
            throw new ArgumentOutOfRangeException(field, v, $"{field} must be between 1 and {MaxSteps}; got {v}. Upstream demos use 30.");
    }

    public static void Solver(OdeMethod? value, string field)
    {
        if (value is { } v && !Enum.IsDefined(v))
            throw new ArgumentOutOfRangeException(field, v, $"{field} {(int)v} is not a known solver; use one of {string.Join(", ", Enum.GetNames<OdeMethod>())}.");
    }

    public static void Positive(double? value, string field, string hint)
    {
        if (value is { } v && !(double.IsFinite(v) && v > 0))
            throw new ArgumentOutOfRangeException(field, v, $"{field} must be a finite number greater than 0; got {v}. {hint}");
    }

    public static void NonNegative(double? value, string field, string hint)
    {
        if (value is { } v && !(double.IsFinite(v) && v >= 0))
            throw new ArgumentOutOfRangeException(field, v, $"{field} must be a finite number ≥ 0; got {v}. {hint}");
    }

    public static void UnitInterval(double? value, string field, bool allowZero, string hint)
    {
        if (value is { } v && !(double.IsFinite(v) && (allowZero ? v >= 0 : v > 0) && v <= 1))
            throw new ArgumentOutOfRangeException(field, v, $"{field} must be in {(allowZero ? "[0, 1]" : "(0, 1]")}; got {v}. {hint}");
    }

    /// <summary>
    /// The guidance fields shared by <see cref="SamplingSettings"/> and <see cref="TextToImageRequest"/> (same names in
    /// both, so <c>ParamName</c> is the property either way); null values are not checked.
    /// </summary>
    public static void Guidance(Guidance.GuidanceChannels? channels, double? truncateAtTime, double? truncateAfterStepFraction, double? clipToConditionalNorm)
    {
        if (channels is { } c && !Enum.IsDefined(c))
            throw new ArgumentOutOfRangeException(nameof(SamplingSettings.GuidanceChannels), c,
                $"{nameof(SamplingSettings.GuidanceChannels)} {(int)c} is not known; use {string.Join(" or ", Enum.GetNames<Guidance.GuidanceChannels>())}.");
        UnitInterval(truncateAtTime, nameof(SamplingSettings.GuidanceTruncateAtTime), allowZero: true,
            "It is a flow time (0 noise, 1 data): upstream's demo uses 0.25; null guides every step.");
        UnitInterval(truncateAfterStepFraction, nameof(SamplingSettings.GuidanceTruncateAfterStepFraction), allowZero: true,
            "It is a fraction of the steps: diffusers' default is 1 (every step guided).");
        NonNegative(clipToConditionalNorm, nameof(SamplingSettings.GuidanceClipToConditionalNorm), "Upstream Lumina-Image 2.0 uses 1; 0 disables it.");
    }

    public static void SystemPrompt(string? name, string field, bool allowNull = false)
    {
        if (name is null)
        {
            if (allowNull) return;
            throw new ArgumentNullException(field, $"{field} must name a system prompt; use \"none\" for none.");
        }
        if (!Models.TextEncoders.Lumina2SystemPrompt.TryGet(name, out _))
            throw new ArgumentException(
                $"{field} '{name}' is not a known system prompt; use one of {string.Join(", ", Models.TextEncoders.Lumina2SystemPrompt.Names)}.", field);
    }

    /// <summary>Throws unless <paramref name="perPrompt"/> ≥ 1 and prompts × per prompt is at most <see cref="MaxImages"/>.</summary>
    public static void PerPrompt(int perPrompt, int prompts)
    {
        if (perPrompt < 1 || (long)perPrompt * prompts > MaxImages)
            throw new ArgumentOutOfRangeException("ImagesPerPrompt", perPrompt,
                $"ImagesPerPrompt must be ≥ 1 and prompts × images per prompt at most {MaxImages}; got {perPrompt} × {prompts}.");
    }

    public static void Count(int value, int max, string field)
    {
        if (value < 1 || value > max)
            throw new ArgumentOutOfRangeException(field, value, $"{field} must be between 1 and {max}; got {value}.");
    }

    public static void Prompts(IReadOnlyList<string>? prompts, string field)
    {
        if (prompts is null) throw new ArgumentNullException(field, $"{field} must not be null; pass at least one prompt.");
        if (prompts.Count == 0) throw new ArgumentException($"{field} is empty; pass at least one prompt.", field);
        for (var i = 0; i < prompts.Count; i++)
            if (prompts[i] is null) throw new ArgumentException($"{field}[{i}] is null; use \"\" for an empty prompt.", field);
    }
}
