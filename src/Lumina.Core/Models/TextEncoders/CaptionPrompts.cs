namespace Lumina.Models.TextEncoders;

/// <summary>Prompt checks shared by the caption encoders.</summary>
internal static class CaptionPrompts
{
    internal static void ValidatePrompts(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0)
        {
            throw new ArgumentException("Give at least one prompt (use \"\" for the unconditional caption).", nameof(prompts));
        }

        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i] is null)
            {
                throw new ArgumentException($"Prompt {i} is null; use \"\" for an empty caption.", nameof(prompts));
            }
        }
    }
}
