namespace Lumina.Models.TextEncoders;

/// <summary>
/// Turns prompts into caption features and mask the way one Lumina family does upstream (tokenizer settings, padding,
/// which hidden state, which mask).
/// </summary>
public interface ICaptionEncoder : IDisposable
{
    /// <summary>The text model whose <c>state_dict()</c> is the text-encoder checkpoint (what <c>SavePretrained</c> writes).</summary>
    TorchSharp.torch.nn.Module Module { get; }

    /// <summary>Width of the caption features (the DiT's <c>cap_feat_dim</c>).</summary>
    int FeatureSize { get; }

    /// <summary>
    /// Encodes a batch of prompts together; they are padded to a common length. For classifier-free guidance pass
    /// <c>[prompt, negative or ""]</c> (Lumina.Sampling's <c>ClassifierFreeGuidance.EncodeCaptions</c> does that).
    /// </summary>
    /// <param name="prompts">The prompts; at least one, none null. Empty strings are valid.</param>
    /// <param name="cancellationToken">Checked between layers.</param>
    CaptionEmbeddings Encode(IReadOnlyList<string> prompts, CancellationToken cancellationToken = default);
}
