using Lumina.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// What every family's caption encoder shares: a loaded text model and its tokenizer, optional ownership of the
/// model, and the encode sequence (tokenize the way upstream does, run the model, return features with a mask).
/// A family supplies its tokenization, the model call and, where upstream differs, the mask handed to the DiT.
/// </summary>
/// <typeparam name="TModel">The text model type.</typeparam>
public abstract class CaptionEncoder<TModel> : ICaptionEncoder where TModel : nn.Module
{
    private readonly bool _ownsModel;

    /// <summary>Wraps a loaded model and its tokenizer.</summary>
    /// <param name="model">The text model, weights loaded.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="ownsModel">Whether <see cref="Dispose()"/> also disposes the model.</param>
    /// <param name="modelDevice">The device the model runs on.</param>
    /// <param name="featureSize">The width of the features the model returns.</param>
    protected CaptionEncoder(TModel model, SentencePieceTextTokenizer tokenizer, bool ownsModel, Device modelDevice, int featureSize)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _ownsModel = ownsModel;
        ModelDevice = modelDevice;
        FeatureSize = featureSize;
    }

    /// <summary>
    /// Refuses a tokenizer without the special tokens a family's recipe adds: <paramref name="recipe"/> says which and
    /// why ("Gemma's caption encoding starts with BOS").
    /// </summary>
    private protected void RequireSpecialTokens(bool bos, bool eos, string recipe)
    {
        if (bos && Tokenizer.BosId is null || eos && Tokenizer.EosId is null)
            throw new ArgumentException($"{recipe}, but this tokenizer lacks {(bos && eos ? "BOS or EOS" : bos ? "BOS" : "EOS")}.", "tokenizer");
    }

    /// <summary>The text model.</summary>
    protected TModel Model { get; }

    /// <summary>The tokenizer.</summary>
    protected SentencePieceTextTokenizer Tokenizer { get; }

    /// <inheritdoc />
    public nn.Module Module => Model;

    /// <summary>The device the model runs on (token tensors are created there).</summary>
    protected Device ModelDevice { get; }

    /// <inheritdoc />
    public int FeatureSize { get; }

    /// <summary>The tokenization upstream applies, exposed for inspection and tests.</summary>
    /// <param name="prompts">The prompts (checked: at least one, none null).</param>
    internal TokenBatch Tokenize(IReadOnlyList<string> prompts)
    {
        CaptionPrompts.ValidatePrompts(prompts);
        return TokenizeCore(prompts);
    }

    /// <summary>The family's tokenization of checked prompts.</summary>
    /// <param name="prompts">The prompts.</param>
    internal abstract TokenBatch TokenizeCore(IReadOnlyList<string> prompts);

    /// <summary>Runs the model on token ids and returns the caption features [B, L, D].</summary>
    /// <param name="ids">Token ids [B, L].</param>
    /// <param name="tokenMask">1 for tokens, 0 for padding [B, L]; a family decides whether the model sees it.</param>
    /// <param name="cancellationToken">Checked between layers.</param>
    protected abstract Tensor RunModel(Tensor ids, Tensor tokenMask, CancellationToken cancellationToken);

    /// <summary>
    /// The mask returned with the features. By default the token mask; a family whose DiT attends to padding
    /// upstream returns something else (and disposes <paramref name="tokenMask"/>).
    /// </summary>
    protected virtual Tensor MaskForDiT(Tensor tokenMask) => tokenMask;

    /// <inheritdoc />
    public CaptionEmbeddings Encode(IReadOnlyList<string> prompts, CancellationToken cancellationToken = default)
    {
        var batch = Tokenize(prompts);
        using var ids = batch.InputIdsTensor(ModelDevice);
        var tokenMask = batch.AttentionMaskTensor(ModelDevice);
        try
        {
            var features = RunModel(ids, tokenMask, cancellationToken);
            return new CaptionEmbeddings(features, MaskForDiT(tokenMask));
        }
        catch
        {
            tokenMask.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the tokenizer from <paramref name="tokenizerFolder"/> and the model, and wraps them (the encoder should own
    /// the model), disposing the model if wrapping fails.
    /// </summary>
    /// <param name="tokenizerFolder">Folder with the SentencePiece model and its JSON settings.</param>
    /// <param name="loadModel">Loads the model.</param>
    /// <param name="wrap">Wraps the model and the tokenizer.</param>
    protected static TEncoder Load<TEncoder>(string tokenizerFolder, Func<TModel> loadModel, Func<TModel, SentencePieceTextTokenizer, TEncoder> wrap)
    {
        ArgumentNullException.ThrowIfNull(loadModel);
        ArgumentNullException.ThrowIfNull(wrap);
        var tokenizer = SentencePieceTextTokenizer.FromFolder(tokenizerFolder);
        var model = loadModel();
        try
        {
            return wrap(model, tokenizer);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the model when this encoder owns it.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing && _ownsModel)
            Model.Dispose();
    }
}
