namespace Lumina.Models.TextEncoders;

/// <summary>Helpers over <see cref="ICaptionEncoder"/>.</summary>
public static class CaptionEncoderExtensions
{
    /// <summary>
    /// Encodes the batch <c>[prompt, negativePrompt ?? ""]</c> used for classifier-free guidance, exactly as the upstream
    /// demos do (the conditional row first, the unconditional second).
    /// </summary>
    /// <param name="encoder">The caption encoder.</param>
    /// <param name="prompt">The prompt.</param>
    /// <param name="negativePrompt">The negative prompt; null or empty gives the empty caption.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static CaptionEmbeddings EncodeForGuidance(this ICaptionEncoder encoder, string prompt, string? negativePrompt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(prompt);
        return encoder.Encode(new[] { prompt, negativePrompt ?? string.Empty }, cancellationToken);
    }

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
