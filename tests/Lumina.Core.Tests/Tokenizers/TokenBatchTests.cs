using Lumina.Tokenizers;

namespace Lumina.Core.Tests.Tokenizers;

/// <summary>Hugging Face style batch padding and truncation of <see cref="SentencePieceTextTokenizer.EncodeBatch"/>.</summary>
public class TokenBatchTests
{
    private static readonly SentencePieceTextTokenizer Gemma =
        SentencePieceTextTokenizer.FromModelFile(Path.Combine(TokenizerCasesTests.Folder, "gemma_like.model"), new SentencePieceLoadOptions { AddBos = true });

    [Fact]
    public void LeftPaddingPutsPadsFirst()
    {
        var batch = Gemma.EncodeBatch(new[] { "A.", "" }, new TokenBatchOptions { Side = PaddingSide.Left });
        Assert.Equal(3, batch.SequenceLength);
        Assert.Equal(new long[] { 2, 1058, 1056 }, batch.Row(0).ToArray());
        Assert.Equal(new long[] { 0, 0, 2 }, batch.Row(1).ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 0, 0, 1 }, batch.AttentionMask.ToArray());
    }

    [Fact]
    public void MaxLengthPaddingRoundsUpToTheMultiple()
    {
        var batch = Gemma.EncodeBatch(new[] { "A." }, new TokenBatchOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 5, PadToMultipleOf = 4, PadId = 7 });
        Assert.Equal(new long[] { 2, 1058, 1056, 7, 7, 7, 7, 7 }, batch.Row(0).ToArray());
        using var ids = batch.InputIdsTensor();
        Assert.Equal(new long[] { 1, 8 }, ids.shape);
    }

    [Fact]
    public void TruncationKeepsSpecialTokensAndLongInputsWithoutTruncationAreRejected()
    {
        var options = new TokenBatchOptions { AddEos = true, MaxLength = 3, Truncate = true };
        var batch = Gemma.EncodeBatch(new[] { "A red circle" }, options);
        Assert.Equal(new long[] { 2, 1058, 1 }, batch.Row(0).ToArray());

        // As in Hugging Face, MaxLength without truncation only limits max-length padding, where it cannot fit.
        Assert.Equal(5, Gemma.EncodeBatch(new[] { "A red circle" }, options with { Truncate = false }).SequenceLength);
        var e = Assert.Throws<ArgumentException>(() =>
            Gemma.EncodeBatch(new[] { "A red circle" }, options with { Truncate = false, Padding = PaddingStrategy.MaxLength }));
        Assert.Contains("Truncate", e.Message);
        Assert.Throws<ArgumentException>(() => Gemma.EncodeBatch(new[] { "A.", "" }, new TokenBatchOptions { Padding = PaddingStrategy.None }));
        Assert.Throws<ArgumentException>(() => Gemma.EncodeBatch(Array.Empty<string>()));
    }
}
