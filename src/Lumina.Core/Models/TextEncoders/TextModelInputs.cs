using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>Checks shared by every text model's forward: token ids and the optional attention mask.</summary>
internal static class TextModelInputs
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the problem if the inputs cannot be run.</summary>
    public static void Validate(Tensor inputIds, Tensor? attentionMask, long vocabSize)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.dim() != 2 || inputIds.shape[1] == 0)
        {
            throw new ArgumentException(
                $"inputIds must be [batch, tokens] with at least one token, got [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        }

        if (inputIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
        {
            throw new ArgumentException($"inputIds must hold int64 or int32 token ids, got {inputIds.dtype}.", nameof(inputIds));
        }

        using var ids64 = inputIds.to(ScalarType.Int64);
        using var minT = ids64.min();
        using var maxT = ids64.max();
        long min = minT.item<long>(), max = maxT.item<long>();
        if (min < 0 || max >= vocabSize)
        {
            throw new ArgumentException($"Token ids must lie in [0, {vocabSize}), got [{min}, {max}]. Is the tokenizer the model's own?", nameof(inputIds));
        }

        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(inputIds.shape))
        {
            throw new ArgumentException(
                $"attentionMask must have the shape of inputIds [{string.Join(", ", inputIds.shape)}], got [{string.Join(", ", attentionMask.shape)}].",
                nameof(attentionMask));
        }
    }
}
