namespace Lumina.Pipelines;

/// <summary>
/// Turns prompts into the caption features a DiT attends to: tokenizer + text encoder + the layer each family reads
/// (Gemma <c>hidden_states[-2]</c> for Lumina-Next, LLaMA <c>last_hidden_state</c> for Lumina-T2I, T5 for music).
/// </summary>
public interface IPromptEncoder : IDisposable
{
    /// <summary>Width of one caption feature vector (the DiT's caption dim).</summary>
    int FeatureDim { get; }

    /// <summary>Encodes a batch of texts together (right padding), as upstream does for [prompt, negative].</summary>
    /// <param name="texts">The texts, at least one.</param>
    /// <param name="cancellationToken">Checked before the encoder runs.</param>
    /// <returns>Features [B, L, FeatureDim] and mask [B, L]; the caller disposes them.</returns>
    PromptEncoding Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);
}
