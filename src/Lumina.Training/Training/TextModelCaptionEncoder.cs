using Lumina.Models.TextEncoders;
using Lumina.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>
/// Upstream's <c>encode_prompt</c> for training: tokenize with BOS, right padding to a multiple of 8 (max 256 tokens),
/// (BOS is always prepended when the tokenizer has one, so the empty caption of caption dropout is one token), run the decoder text model with the mask and take <c>hidden_states[-2]</c> (Lumina-Next with Gemma).
/// </summary>
public sealed class TextModelCaptionEncoder : ICaptionEncoder
{
    private readonly SentencePieceTextTokenizer _tokenizer;
    private readonly DecoderTextModel _model;
    private readonly int _hiddenStateIndex;
    private readonly TokenBatchOptions _batchOptions;

    /// <summary>Creates the encoder.</summary>
    /// <param name="tokenizer">The text model's tokenizer.</param>
    /// <param name="model">The text model (kept frozen; it runs without gradients).</param>
    /// <param name="hiddenStateIndex">Which hidden state to return (−2 = Lumina-Next's penultimate layer).</param>
    /// <param name="maxLength">Truncation length (upstream 256).</param>
    public TextModelCaptionEncoder(SentencePieceTextTokenizer tokenizer, DecoderTextModel model, int hiddenStateIndex = -2, int maxLength = 256)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        _tokenizer = tokenizer;
        _model = model;
        _hiddenStateIndex = hiddenStateIndex;
        _batchOptions = new TokenBatchOptions { AddBos = tokenizer.BosId is not null ? true : null, MaxLength = maxLength, Truncate = true, PadToMultipleOf = 8, Side = PaddingSide.Right };
    }

    /// <summary>Width of the features (the text model's hidden size).</summary>
    public int FeatureSize => _model.HiddenSize;

    /// <inheritdoc />
    public CaptionFeatures Encode(IReadOnlyList<string> captions)
    {
        ArgumentNullException.ThrowIfNull(captions);
        if (captions.Count == 0) throw new ArgumentException("Give at least one caption.", nameof(captions));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = _tokenizer.EncodeBatch(captions, _batchOptions);
        var ids = batch.InputIdsTensor(_model.Device);
        var mask = batch.AttentionMaskTensor(_model.Device);
        var features = _model.HiddenState(ids, mask, _hiddenStateIndex);
        return new CaptionFeatures(features.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }
}
