namespace Lumina.Models.TextEncoders;

/// <summary>
/// Lumina-Image 2.0's named system prompts (upstream <c>sample.py</c> / <c>demo.py</c>). The text encoder sees
/// <c>system prompt + prompt</c>; each non-empty system prompt ends in <c>"&lt;Prompt Start&gt; "</c>. The negative
/// prompt gets the same system prompt when it is not empty; an empty negative prompt stays empty.
/// </summary>
public static class Lumina2SystemPrompt
{
    /// <summary>The text that ends every system prompt.</summary>
    public const string PromptStart = "<Prompt Start> ";

    /// <summary>"base": the general-purpose prompt.</summary>
    public const string Base = "You are an assistant designed to generate high-quality images based on user prompts. " + PromptStart;

    /// <summary>"align": image-text alignment.</summary>
    public const string Align = "You are an assistant designed to generate high-quality images with the highest degree of image-text alignment based on textual prompts. " + PromptStart;

    /// <summary>"aesthetics": aesthetics first.</summary>
    public const string Aesthetics = "You are an assistant designed to generate high-quality images with highest degree of aesthetics based on user prompts. " + PromptStart;

    /// <summary>"real": what upstream's <c>scripts/sample.sh</c> uses.</summary>
    public const string Real = "You are an assistant designed to generate superior images with the superior degree of image-text alignment based on textual prompts or user prompts. " + PromptStart;

    /// <summary>"4grid": four images in a 2×2 grid.</summary>
    public const string FourGrid = "You are an assistant designed to generate four high-quality images with highest degree of aesthetics arranged in 2x2 grids based on user prompts. " + PromptStart;

    /// <summary>"none": no system prompt.</summary>
    public const string None = "";

    /// <summary>The name upstream's sampling script uses by default ("real").</summary>
    public const string DefaultName = "real";

    private static readonly Dictionary<string, string> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["base"] = Base, ["align"] = Align, ["aesthetics"] = Aesthetics, ["real"] = Real, ["4grid"] = FourGrid, ["none"] = None,
    };

    /// <summary>The names, in upstream's order: base, align, aesthetics, real, 4grid, none.</summary>
    public static IReadOnlyList<string> Names { get; } = ["base", "align", "aesthetics", "real", "4grid", "none"];

    /// <summary>The system prompt called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    public static string Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGet(name, out var text)
            ? text
            : throw new ArgumentException($"Unknown Lumina-Image 2.0 system prompt '{name}'; use one of {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>Looks a system prompt up by name (case-insensitive).</summary>
    public static bool TryGet(string name, out string text)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name.Trim(), out text!);
    }

    /// <summary>The text the encoder sees for a prompt: <c>systemPrompt + prompt</c>.</summary>
    /// <param name="systemPrompt">The system prompt text (e.g. <see cref="Real"/> or <see cref="Get"/>'s result).</param>
    /// <param name="prompt">The user's prompt.</param>
    public static string Apply(string systemPrompt, string prompt)
    {
        ArgumentNullException.ThrowIfNull(systemPrompt);
        ArgumentNullException.ThrowIfNull(prompt);
        return systemPrompt + prompt;
    }

    /// <summary>
    /// The text the encoder sees for a negative prompt: <c>systemPrompt + negative</c> when the negative prompt is not
    /// empty, and the empty string (unconditional) when it is.
    /// </summary>
    public static string ApplyToNegative(string systemPrompt, string? negativePrompt)
    {
        ArgumentNullException.ThrowIfNull(systemPrompt);
        return string.IsNullOrEmpty(negativePrompt) ? "" : systemPrompt + negativePrompt;
    }

    /// <summary>
    /// The caption batch for classifier-free guidance, <c>[system + prompt, system + negative or ""]</c>, ready for
    /// <see cref="ICaptionEncoder.Encode"/>.
    /// </summary>
    public static IReadOnlyList<string> ForGuidance(string systemPrompt, string prompt, string? negativePrompt)
        => [Apply(systemPrompt, prompt), ApplyToNegative(systemPrompt, negativePrompt)];
}
