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
    protected CaptionEncoder(TModel model, SentencePieceTextTokenizer tokenizer, bool ownsModel)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _ownsModel = ownsModel;
    }

    /// <summary>The text model.</summary>
    protected TModel Model { get; }

    /// <summary>The tokenizer.</summary>
    protected SentencePieceTextTokenizer Tokenizer { get; }

    /// <inheritdoc />
    public nn.Module Module => Model;

    /// <summary>The device the model runs on (token tensors are created there).</summary>
    protected abstract Device ModelDevice { get; }

    /// <inheritdoc />
    public abstract int FeatureSize { get; }

    /// <summary>The tokenization upstream applies, exposed for inspection and tests.</summary>
    /// <param name="prompts">The prompts.</param>
    internal abstract TokenBatch Tokenize(IReadOnlyList<string> prompts);

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

    /// <summary>Loads a model and wraps it, disposing the model if wrapping fails.</summary>
    protected static TEncoder Wrap<TEncoder>(TModel model, Func<TModel, TEncoder> wrap)
    {
        try
        {
            return wrap(model);
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
