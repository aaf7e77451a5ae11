namespace Lumina.Training;

/// <summary>
/// Turns captions into the features and mask a DiT is conditioned on. Caption dropout hands it the empty string, so
/// the encoder must accept "" (for a BOS-prepending tokenizer that is a single BOS token, as upstream).
/// </summary>
public interface ICaptionEncoder
{
    /// <summary>Encodes a batch of captions (no gradient is needed).</summary>
    /// <param name="captions">One caption per sample; may contain "".</param>
    /// <returns>Features [B, L, D] and mask [B, L]; the caller disposes them.</returns>
    CaptionFeatures Encode(IReadOnlyList<string> captions);
}
