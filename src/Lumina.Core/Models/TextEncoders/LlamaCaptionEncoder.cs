using Lumina.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Lumina-T2I's caption encoder: LLaMA's tokenizer with BOS and EOS, each prompt right-padded with id 0 to the longest
/// of the batch, the model run <b>without</b> an attention mask, and <c>last_hidden_state</c> as features. The token mask
/// (1 for BOS…EOS, 0 for padding) is returned for the DiT only.
/// </summary>
public sealed class LlamaCaptionEncoder : CaptionEncoder<DecoderTextModel>
{
    /// <summary>Wraps a loaded model and its tokenizer.</summary>
    /// <param name="model">The LLaMA model, weights loaded.</param>
    /// <param name="tokenizer">LLaMA's tokenizer (it must have BOS and EOS).</param>
    /// <param name="maxLength">
    /// Null (upstream inference) keeps every token. A value cuts each BOS…EOS sequence to that many tokens, the way
    /// upstream training does (a plain cut, so a long prompt loses its EOS).
    /// </param>
    /// <param name="ownsModel">Whether <see cref="CaptionEncoder{TModel}.Dispose()"/> also disposes the model.</param>
    public LlamaCaptionEncoder(DecoderTextModel model, SentencePieceTextTokenizer tokenizer, int? maxLength = null, bool ownsModel = false)
        : base(model, tokenizer, ownsModel, model?.Device!, model?.HiddenSize ?? 0)
    {
        RequireSpecialTokens(bos: true, eos: true, "LLaMA's caption encoding adds BOS and EOS");

        if (maxLength is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be positive or null.");
        }

        MaxLength = maxLength;
    }

    /// <summary>The optional per-prompt token limit (null = none, as upstream inference).</summary>
    public int? MaxLength { get; }

    /// <summary>
    /// Loads the encoder and tokenizer from Hugging Face folders (for a diffusers repository: <c>text_encoder</c> and
    /// <c>tokenizer</c>). The returned encoder owns the model.
    /// </summary>
    /// <param name="textEncoderFolder">Folder with <c>config.json</c> and the weights (single or sharded).</param>
    /// <param name="tokenizerFolder">Folder with the SentencePiece model and its JSON settings.</param>
    /// <param name="device">Where to create the model; null = CPU.</param>
    /// <param name="dtype">Model dtype; null = fp32.</param>
    public static LlamaCaptionEncoder FromPretrained(string textEncoderFolder, string tokenizerFolder, Device? device = null, ScalarType? dtype = null)
        => Load(tokenizerFolder, () => DecoderTextModel.FromPretrained(textEncoderFolder, LlamaConfig.FromFile, device, dtype), (model, tokenizer) => new LlamaCaptionEncoder(model, tokenizer, ownsModel: true));

    /// <inheritdoc />
    internal override TokenBatch TokenizeCore(IReadOnlyList<string> prompts)
    {
        var rows = prompts.Select(p =>
        {
            var ids = new List<int> { Tokenizer.BosId!.Value };
            ids.AddRange(Tokenizer.Encode(p, addSpecialTokens: false));
            ids.Add(Tokenizer.EosId!.Value);
            return MaxLength is { } max && ids.Count > max ? ids.GetRange(0, max) : ids;
        }).ToList();

        // Upstream builds a zero tensor and copies each sequence in: padding id 0 whatever the tokenizer's pad is.
        int length = rows.Max(r => r.Count);
        var idsOut = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int i = 0; i < rows[r].Count; i++)
            {
                idsOut[r * length + i] = rows[r][i];
                mask[r * length + i] = 1;
            }
        }

        return new TokenBatch(rows.Count, length, idsOut, mask);
    }

    /// <inheritdoc />
    protected override Tensor RunModel(Tensor ids, Tensor tokenMask, CancellationToken cancellationToken)
    {
        // Upstream gives the LLM no mask; the token mask goes to the DiT only.
        using var output = Model.Forward(ids, attentionMask: null, outputHiddenStates: false, cancellationToken);
        return output.LastHiddenState.alias();
    }
}
