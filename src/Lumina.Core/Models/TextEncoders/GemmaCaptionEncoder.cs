using Lumina.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Lumina-Next's caption encoder: Gemma's tokenizer with BOS, right padding to the longest prompt rounded up to a
/// multiple of 8, truncation at 256 tokens (BOS kept), the attention mask passed to the model, and
/// <c>hidden_states[-2]</c> (the penultimate layer, no final norm) as features. The mask is returned with them.
/// </summary>
/// <remarks>Works with <see cref="GemmaConfig"/> and, for experiments, any <see cref="DecoderTextModel"/>.</remarks>
public sealed class GemmaCaptionEncoder : CaptionEncoder<DecoderTextModel>
{
    /// <summary>Upstream's <c>max_length</c>.</summary>
    public const int DefaultMaxLength = 256;

    /// <summary>Upstream's <c>pad_to_multiple_of</c>.</summary>
    public const int PadToMultipleOf = 8;

    /// <summary>Wraps a loaded model and its tokenizer.</summary>
    /// <param name="model">The Gemma model, weights loaded.</param>
    /// <param name="tokenizer">Gemma's tokenizer (it must have a BOS token).</param>
    /// <param name="maxLength">Token limit including BOS (upstream: 256).</param>
    /// <param name="ownsModel">Whether <see cref="CaptionEncoder{TModel}.Dispose()"/> also disposes the model.</param>
    public GemmaCaptionEncoder(DecoderTextModel model, SentencePieceTextTokenizer tokenizer, int maxLength = DefaultMaxLength, bool ownsModel = false)
        : base(model, tokenizer, ownsModel, model?.Device!, model?.HiddenSize ?? 0)
    {
        RequireSpecialTokens(bos: true, eos: false, "Gemma's caption encoding starts with BOS");

        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        MaxLength = maxLength;
    }

    /// <summary>Token limit including BOS.</summary>
    public int MaxLength { get; }

    /// <summary>
    /// Loads the encoder and tokenizer from Hugging Face folders (for a diffusers repository: <c>text_encoder</c> and
    /// <c>tokenizer</c>). The returned encoder owns the model.
    /// </summary>
    /// <param name="textEncoderFolder">Folder with <c>config.json</c> and the weights (single or sharded).</param>
    /// <param name="tokenizerFolder">Folder with the SentencePiece model and its JSON settings.</param>
    /// <param name="device">Where to create the model; null = CPU.</param>
    /// <param name="dtype">Model dtype; null = fp32.</param>
    public static GemmaCaptionEncoder FromPretrained(string textEncoderFolder, string tokenizerFolder, Device? device = null, ScalarType? dtype = null)
        => Load(tokenizerFolder, () => DecoderTextModel.FromPretrained(textEncoderFolder, GemmaConfig.FromFile, device, dtype), (model, tokenizer) => new GemmaCaptionEncoder(model, tokenizer, ownsModel: true));

    /// <summary>
    /// Lumina-Image 2.0's caption encoder: Gemma-2-2B with the same tokenization,
    /// <c>hidden_states[-2]</c> and mask (features of width 2304). Prepend the system prompt to the prompts first
    /// (<see cref="Lumina2SystemPrompt.ForGuidance"/>). The returned encoder owns the model.
    /// </summary>
    /// <param name="textEncoderFolder">Folder with Gemma-2's <c>config.json</c> and weights (diffusers: <c>text_encoder</c>).</param>
    /// <param name="tokenizerFolder">Folder with the SentencePiece model and its JSON settings (diffusers: <c>tokenizer</c>).</param>
    /// <param name="device">Where to create the model; null = CPU.</param>
    /// <param name="dtype">Model dtype; null = fp32.</param>
    public static GemmaCaptionEncoder FromPretrainedGemma2(string textEncoderFolder, string tokenizerFolder, Device? device = null, ScalarType? dtype = null)
        => Load(tokenizerFolder, () => DecoderTextModel.FromPretrained(textEncoderFolder, Gemma2Config.FromFile, device, dtype), (model, tokenizer) => new GemmaCaptionEncoder(model, tokenizer, ownsModel: true));

    /// <inheritdoc />
    internal override TokenBatch TokenizeCore(IReadOnlyList<string> prompts)
    {
        return Tokenizer.EncodeBatch(prompts, new TokenBatchOptions
        {
            AddBos = true,
            AddEos = false,
            MaxLength = MaxLength,
            Truncate = true,
            Padding = PaddingStrategy.Longest,
            PadToMultipleOf = PadToMultipleOf,
            Side = PaddingSide.Right,
        });
    }

    /// <inheritdoc />
    protected override Tensor RunModel(Tensor ids, Tensor tokenMask, CancellationToken cancellationToken) =>
        Model.HiddenState(ids, tokenMask, -2, cancellationToken);
}
