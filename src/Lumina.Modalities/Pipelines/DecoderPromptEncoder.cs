using Lumina.Models.TextEncoders;
using Lumina.Tokenizers;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>How a decoder-only text encoder is read for captions.</summary>
/// <param name="HiddenStateIndex">Index into the hidden-state list (−2 = penultimate layer, Lumina-Next's Gemma).</param>
/// <param name="MaskToEncoder">Whether the attention mask is given to the text model (Gemma yes, LLaMA no).</param>
/// <param name="MaxLength">Longest token sequence kept (truncation).</param>
/// <param name="PadToMultipleOf">Pad the batch length up to a multiple of this.</param>
/// <param name="AddEos">Whether EOS is appended (LLaMA in Lumina-T2I); null follows the tokenizer's settings.</param>
/// <param name="PadId">Padding id; null uses the tokenizer's (LLaMA has none, Lumina-T2I pads with 0).</param>
public sealed record CaptionReadout(int HiddenStateIndex, bool MaskToEncoder, int MaxLength, int? PadToMultipleOf, bool? AddEos = null, int? PadId = null)
{
    /// <summary>Lumina-Next: Gemma <c>hidden_states[-2]</c> with the mask, right padding to a multiple of 8, at most 256 tokens.</summary>
    public static CaptionReadout LuminaNextGemma { get; } = new(-2, MaskToEncoder: true, MaxLength: 256, PadToMultipleOf: 8);

    /// <summary>Lumina-T2I: LLaMA <c>last_hidden_state</c>, BOS and EOS, no mask to the LLM, at most 256 tokens.</summary>
    public static CaptionReadout LuminaT2ILlama { get; } = new(-1, MaskToEncoder: false, MaxLength: 256, PadToMultipleOf: null, AddEos: true, PadId: 0);
}

/// <summary>
/// A SentencePiece tokenizer and a decoder text model (Gemma or LLaMA) read as caption features. Owns the model.
/// </summary>
public sealed class DecoderPromptEncoder : IPromptEncoder
{
    private readonly SentencePieceTextTokenizer tokenizer;
    private readonly DecoderTextModel model;
    private readonly CaptionReadout readout;

    /// <summary>Wraps a tokenizer and a loaded text model.</summary>
    public DecoderPromptEncoder(SentencePieceTextTokenizer tokenizer, DecoderTextModel model, CaptionReadout readout)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(readout);
        if (tokenizer.VocabularySize > model.VocabSize)
            throw new ArgumentException(
                $"The tokenizer has {tokenizer.VocabularySize} pieces but the text model only {model.VocabSize} embeddings; they do not belong together.",
                nameof(tokenizer));
        this.tokenizer = tokenizer;
        this.model = model;
        this.readout = readout;
        model.eval();
    }

    /// <inheritdoc />
    public int FeatureDim => model.HiddenSize;

    /// <inheritdoc />
    public PromptEncoding Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        cancellationToken.ThrowIfCancellationRequested();
        var batch = tokenizer.EncodeBatch(texts, new TokenBatchOptions
        {
            MaxLength = readout.MaxLength,
            Truncate = true,
            Padding = PaddingStrategy.Longest,
            PadToMultipleOf = readout.PadToMultipleOf,
            Side = PaddingSide.Right,
            AddEos = readout.AddEos,
            PadId = readout.PadId,
        });
        using var scope = NewDisposeScope();
        var ids = batch.InputIdsTensor(model.Device);
        var mask = batch.AttentionMaskTensor(model.Device);
        var features = model.HiddenState(ids, readout.MaskToEncoder ? mask : null, readout.HiddenStateIndex, cancellationToken)
            .to_type(ScalarType.Float32);
        return new PromptEncoding(features.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <inheritdoc />
    public void Dispose() => model.Dispose();
}
