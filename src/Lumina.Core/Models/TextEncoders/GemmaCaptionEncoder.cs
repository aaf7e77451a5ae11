using Lumina.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Lumina-Next's caption encoder: Gemma's tokenizer with BOS, right padding to the longest prompt rounded up to a
/// multiple of 8, truncation at 256 tokens (BOS kept), the attention mask passed to the model, and
/// <c>hidden_states[-2]</c> (the penultimate layer, no final norm) as features. The mask is returned with them.
/// </summary>
/// <remarks>Works with <see cref="GemmaModel"/> and, for experiments, any <see cref="DecoderTextModel"/>.</remarks>
public sealed class GemmaCaptionEncoder : ICaptionEncoder
{
    /// <summary>Upstream's <c>max_length</c>.</summary>
    public const int DefaultMaxLength = 256;

    /// <summary>Upstream's <c>pad_to_multiple_of</c>.</summary>
    public const int PadToMultipleOf = 8;

    private readonly DecoderTextModel _model;
    private readonly SentencePieceTextTokenizer _tokenizer;
    private readonly bool _ownsModel;

    /// <summary>Wraps a loaded model and its tokenizer.</summary>
    /// <param name="model">The Gemma model, weights loaded.</param>
    /// <param name="tokenizer">Gemma's tokenizer (it must have a BOS token).</param>
    /// <param name="maxLength">Token limit including BOS (upstream: 256).</param>
    /// <param name="ownsModel">Whether <see cref="Dispose"/> also disposes the model.</param>
    public GemmaCaptionEncoder(DecoderTextModel model, SentencePieceTextTokenizer tokenizer, int maxLength = DefaultMaxLength, bool ownsModel = false)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        if (tokenizer.BosId is null)
        {
            throw new ArgumentException("Gemma's caption encoding starts with BOS, but this tokenizer has none.", nameof(tokenizer));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        MaxLength = maxLength;
        _ownsModel = ownsModel;
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
    {
        var tokenizer = SentencePieceTextTokenizer.FromFolder(tokenizerFolder);
        var model = GemmaModel.FromPretrained(textEncoderFolder, device, dtype);
        try
        {
            return new GemmaCaptionEncoder(model, tokenizer, ownsModel: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public int FeatureSize => _model.HiddenSize;

    /// <summary>The tokenization upstream applies, exposed for inspection and tests.</summary>
    /// <param name="prompts">The prompts.</param>
    public TokenBatch Tokenize(IReadOnlyList<string> prompts)
    {
        CaptionEncoderExtensions.ValidatePrompts(prompts);
        return _tokenizer.EncodeBatch(prompts, new TokenBatchOptions
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
    public CaptionEmbeddings Encode(IReadOnlyList<string> prompts, CancellationToken cancellationToken = default)
    {
        var batch = Tokenize(prompts);
        using var ids = batch.InputIdsTensor(_model.Device);
        var mask = batch.AttentionMaskTensor(_model.Device);
        try
        {
            var features = _model.HiddenState(ids, mask, -2, cancellationToken);
            return new CaptionEmbeddings(features, mask);
        }
        catch
        {
            mask.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsModel)
        {
            _model.Dispose();
        }
    }
}
