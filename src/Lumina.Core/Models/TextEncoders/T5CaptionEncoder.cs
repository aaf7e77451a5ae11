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
/// mask that reproduces it. <see cref="Tokenize"/> shows which positions hold real tokens.
/// </remarks>
public sealed class T5CaptionEncoder : ICaptionEncoder
{
    /// <summary>Upstream's <c>max_length</c>.</summary>
    public const int DefaultMaxLength = 77;

    private readonly T5EncoderModel _model;
    private readonly SentencePieceTextTokenizer _tokenizer;
    private readonly bool _ownsModel;

    /// <summary>Wraps a loaded encoder and its tokenizer.</summary>
    /// <param name="model">The T5 encoder, weights loaded.</param>
    /// <param name="tokenizer">T5's tokenizer (it must have EOS).</param>
    /// <param name="maxLength">Fixed token count including EOS (upstream: 77).</param>
    /// <param name="ownsModel">Whether <see cref="Dispose"/> also disposes the model.</param>
    public T5CaptionEncoder(T5EncoderModel model, SentencePieceTextTokenizer tokenizer, int maxLength = DefaultMaxLength, bool ownsModel = false)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        if (tokenizer.EosId is null)
        {
            throw new ArgumentException("T5's caption encoding ends with EOS, but this tokenizer has none.", nameof(tokenizer));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        MaxLength = maxLength;
        _ownsModel = ownsModel;
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
    {
        var tokenizer = SentencePieceTextTokenizer.FromFolder(tokenizerFolder);
        var model = T5EncoderModel.FromPretrained(textEncoderFolder, device, dtype);
        try
        {
            return new T5CaptionEncoder(model, tokenizer, ownsModel: true);
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
            AddBos = false,
            AddEos = true,
            MaxLength = MaxLength,
            Truncate = true,
            Padding = PaddingStrategy.MaxLength,
            Side = PaddingSide.Right,
        });
    }

    /// <inheritdoc />
    public CaptionEmbeddings Encode(IReadOnlyList<string> prompts, CancellationToken cancellationToken = default)
    {
        var batch = Tokenize(prompts);
        using var ids = batch.InputIdsTensor(_model.Device);
        using var output = _model.Forward(ids, attentionMask: null, outputHiddenStates: false, cancellationToken);
        var mask = torch.ones(batch.BatchSize, batch.SequenceLength, dtype: ScalarType.Int64, device: _model.Device);
        return new CaptionEmbeddings(output.LastHiddenState.alias(), mask);
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
