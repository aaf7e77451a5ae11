namespace Lumina.Models.TextEncoders;

/// <summary>Key maps for loading released text-encoder checkpoints into the modules of this folder.</summary>
internal static class TextEncoderCheckpoints
{
    /// <summary>
    /// For <c>GemmaForCausalLM</c> / <c>LlamaForCausalLM</c> checkpoints (google/gemma-2b, meta-llama/Llama-2-7b-hf):
    /// strips the <c>model.</c> prefix and skips <c>lm_head.*</c>, which a text encoder does not use.
    /// </summary>
    public static Func<string, string?> CausalLmKeyMap { get; } = key =>
        key.StartsWith("lm_head.", StringComparison.Ordinal) ? null
        : key.StartsWith("model.", StringComparison.Ordinal) ? key["model.".Length..]
        : key;

    /// <summary>
    /// For full T5 checkpoints (<c>T5ForConditionalGeneration</c>, e.g. google/flan-t5-large): skips the decoder and
    /// the LM head, keeping <c>shared.*</c> and <c>encoder.*</c>.
    /// </summary>
    public static Func<string, string?> T5EncoderKeyMap { get; } = key =>
        key.StartsWith("decoder.", StringComparison.Ordinal) || key.StartsWith("lm_head.", StringComparison.Ordinal) ? null : key;
}
