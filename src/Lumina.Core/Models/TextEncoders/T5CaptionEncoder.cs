using Lumina.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Lumina-T2Music's caption encoder (<c>FrozenFLANEmbedder</c>): T5's tokenizer with EOS, truncation at 77 tokens (EOS
/// kept), padding to exactly 77 with the pad id, the encoder run <b>without</b> an attention mask, and
/// <c>last_hidden_state</c> as features.
/// </summary>
/// <remarks>
/// The returned mask is all ones: upstream's music DiT attends to all 77 positions, padding included, so that is the
/// mask that reproduces it. <see cref="CaptionEncoder{TModel}.Tokenize"/> shows which positions hold real tokens.
/// </remarks>
public sealed class T5CaptionEncoder : CaptionEncoder<T5EncoderModel>
{
    /// <summary>Upstream's <c>max_length</c>.</summary>
    public const int DefaultMaxLength = 77;

    /// <summary>Wraps a loaded encoder and its tokenizer.</summary>
    /// <param name="model">The T5 encoder, weights loaded.</param>
    /// <param name="tokenizer">T5's tokenizer (it must have EOS).</param>
    /// <param name="maxLength">Fixed token count including EOS (upstream: 77).</param>
    /// <param name="ownsModel">Whether <see cref="CaptionEncoder{TModel}.Dispose()"/> also disposes the model.</param>
    public T5CaptionEncoder(T5EncoderModel model, SentencePieceTextTokenizer tokenizer, int maxLength = DefaultMaxLength, bool ownsModel = false)
        : base(model, tokenizer, ownsModel, model?.Device!, model?.HiddenSize ?? 0)
    {
        RequireSpecialTokens(bos: false, eos: true, "T5's caption encoding ends with EOS");

        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        MaxLength = maxLength;
    }

    /// <summary>Fixed token count including EOS.</summary>
    public int MaxLength { get; }

    /// <summary>
    /// Loads the encoder and tokenizer from Hugging Face folders (for a diffusers repository: <c>text_encoder</c> and
    /// <c>tokenizer</c>). The returned encoder owns the model.
    /// </summary>
    /// <param name="textEncoderFolder">Folder with <c>config.json</c> and the weights (single or sharded).</param>
    /// <param name="tokenizerFolder">Folder with the SentencePiece model and its JSON settings.</param>
    /// <param name="device">Where to create the model; null = CPU.</param>
    /// <param name="dtype">Model dtype; null = fp32.</param>
    public static T5CaptionEncoder FromPretrained(string textEncoderFolder, string tokenizerFolder, Device? device = null, ScalarType? dtype = null)
        => Load(tokenizerFolder, () => T5EncoderModel.FromPretrained(textEncoderFolder, device, dtype), (model, tokenizer) => new T5CaptionEncoder(model, tokenizer, ownsModel: true));

    /// <inheritdoc />
    internal override TokenBatch TokenizeCore(IReadOnlyList<string> prompts)
    {
        return Tokenizer.EncodeBatch(prompts, new TokenBatchOptions
        {
            AddBos = false,
            AddEos = true,
            MaxLength = MaxLength,
            Truncate = true,
            Padding = PaddingStrategy.MaxLength,
            Side = PaddingSide.Right,
        });
    }

    /// <inheritdoc />
    protected override Tensor RunModel(Tensor ids, Tensor tokenMask, CancellationToken cancellationToken)
    {
        // Upstream runs the encoder without a mask.
        using var output = Model.Forward(ids, attentionMask: null, outputHiddenStates: false, cancellationToken);
        return output.LastHiddenState.alias();
    }

    /// <inheritdoc />
    protected override Tensor MaskForDiT(Tensor tokenMask)
    {
        // The music DiT attends to all positions, padding included: an all-ones mask reproduces it.
        using (tokenMask)
            return torch.ones_like(tokenMask);
    }
}
