using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Tokenizers;

/// <summary>How a batch of token sequences is padded.</summary>
internal enum PaddingStrategy
{
    /// <summary>No padding; every sequence must then have the same length.</summary>
    None,

    /// <summary>Pad to the longest sequence of the batch (Hugging Face <c>padding=True</c>).</summary>
    Longest,

    /// <summary>Pad to <see cref="TokenBatchOptions.MaxLength"/> (Hugging Face <c>padding="max_length"</c>).</summary>
    MaxLength,
}

/// <summary>Which side gets the padding.</summary>
internal enum PaddingSide
{
    /// <summary>Pad after the tokens (what every Lumina caption encoder uses).</summary>
    Right,

    /// <summary>Pad before the tokens.</summary>
    Left,
}

/// <summary>
/// Options of <see cref="SentencePieceTextTokenizer.EncodeBatch"/>, with the meaning of the Hugging Face tokenizer
/// call arguments of the same names.
/// </summary>
internal sealed record TokenBatchOptions
{
    /// <summary>Whether to add the BOS token; null uses the tokenizer's setting.</summary>
    public bool? AddBos { get; init; }

    /// <summary>Whether to add the EOS token; null uses the tokenizer's setting.</summary>
    public bool? AddEos { get; init; }

    /// <summary>Largest sequence length, special tokens included; null means no limit.</summary>
    public int? MaxLength { get; init; }

    /// <summary>
    /// Whether to cut sequences longer than <see cref="MaxLength"/>. As in Hugging Face, the text tokens are cut at
    /// the end and the special tokens are kept (so BOS stays first and EOS stays last).
    /// </summary>
    public bool Truncate { get; init; }

    /// <summary>The padding strategy.</summary>
    public PaddingStrategy Padding { get; init; } = PaddingStrategy.Longest;

    /// <summary>Round the padded length up to a multiple of this (Hugging Face <c>pad_to_multiple_of</c>).</summary>
    public int? PadToMultipleOf { get; init; }

    /// <summary>The side that gets the padding.</summary>
    public PaddingSide Side { get; init; } = PaddingSide.Right;

    /// <summary>The id written into padded positions; null uses the tokenizer's pad id (or 0 when it has none).</summary>
    public int? PadId { get; init; }
}

/// <summary>
/// A padded batch of token ids with its attention mask (1 = real token, 0 = padding), stored row-major as
/// <c>[BatchSize, SequenceLength]</c>.
/// </summary>
internal sealed class TokenBatch
{
    private readonly long[] _ids;
    private readonly long[] _mask;

    /// <summary>Creates a batch from row-major ids and mask.</summary>
    /// <param name="batchSize">Number of sequences.</param>
    /// <param name="sequenceLength">Padded length of every sequence.</param>
    /// <param name="inputIds">Ids, <c>batchSize × sequenceLength</c> values.</param>
    /// <param name="attentionMask">Mask, same size, 1 for real tokens and 0 for padding.</param>
    public TokenBatch(int batchSize, int sequenceLength, long[] inputIds, long[] attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(sequenceLength);
        if (inputIds.Length != batchSize * sequenceLength || attentionMask.Length != inputIds.Length)
        {
            throw new ArgumentException(
                $"Expected {batchSize}×{sequenceLength} ids and mask values, got {inputIds.Length} ids and {attentionMask.Length} mask values.");
        }

        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        _ids = inputIds;
        _mask = attentionMask;
    }

    /// <summary>Number of sequences.</summary>
    public int BatchSize { get; }

    /// <summary>Padded length of every sequence.</summary>
    public int SequenceLength { get; }

    /// <summary>The ids, row-major.</summary>
    public ReadOnlySpan<long> InputIds => _ids;

    /// <summary>The attention mask, row-major.</summary>
    public ReadOnlySpan<long> AttentionMask => _mask;

    /// <summary>The ids of row <paramref name="row"/>, padding included.</summary>
    /// <param name="row">The row index.</param>
    public ReadOnlySpan<long> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, BatchSize);
        return _ids.AsSpan(row * SequenceLength, SequenceLength);
    }

    /// <summary>The number of real (unpadded) tokens of row <paramref name="row"/>.</summary>
    /// <param name="row">The row index.</param>
    public int Length(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, BatchSize);
        int count = 0;
        foreach (long m in _mask.AsSpan(row * SequenceLength, SequenceLength))
        {
            count += m != 0 ? 1 : 0;
        }

        return count;
    }

    /// <summary>The ids as an int64 tensor <c>[BatchSize, SequenceLength]</c>.</summary>
    /// <param name="device">Target device; null = CPU.</param>
    public Tensor InputIdsTensor(Device? device = null) => ToTensor(_ids, device);

    /// <summary>The attention mask as an int64 tensor <c>[BatchSize, SequenceLength]</c> of 0/1.</summary>
    /// <param name="device">Target device; null = CPU.</param>
    public Tensor AttentionMaskTensor(Device? device = null) => ToTensor(_mask, device);

    private Tensor ToTensor(long[] values, Device? device)
    {
        var t = torch.tensor(values, new long[] { BatchSize, SequenceLength }, ScalarType.Int64);
        if (device is null || device.type == DeviceType.CPU)
        {
            return t;
        }

        using (t)
        {
            return t.to(device);
        }
    }
}
