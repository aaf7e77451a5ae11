using Lumina.Testing;
using Lumina.Tokenizers;
using Lumina.Training.Shapes;
using Lumina.Training.Text;

namespace Lumina.Training.Tests;

public sealed class VocabularyBuilderTests
{
    private static IEnumerable<string> Captions(long seed, int count)
    {
        var data = new ShapesDataset(32, seed);
        for (var i = 0; i < count; i++) yield return data.Scene(i).Caption;
    }

    [Fact]
    public void TheBuiltModelLoadsAndTokenizesCaptionsIntoWholeWords()
    {
        using var folder = new TempFolder();
        SentencePieceVocabularyBuilder.WriteTokenizerFolder(folder.Path, Captions(0, 2000));
        var tokenizer = SentencePieceTextTokenizer.FromFolder(folder.Path);
        Assert.Equal(2, tokenizer.BosId);
        Assert.Equal(1, tokenizer.EosId);
        Assert.Equal(0, tokenizer.PadId);
        Assert.True(tokenizer.AddBos);

        foreach (var caption in Captions(seed: 99, 50))
        {
            var pieces = tokenizer.EncodeToPieces(caption);
            var expected = caption.Replace(",", " ,").Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(w => w == "," ? "," : SentencePieceVocabularyBuilder.Space + w);
            Assert.Equal(expected, pieces);
            var ids = tokenizer.Encode(caption);
            Assert.Equal(2, ids[0]);
            Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabularySize - 1));
            Assert.Equal(caption, tokenizer.Decode(ids));
        }

        // A word outside the corpus is segmented into known pieces and characters of the corpus' alphabet; the empty caption is just BOS.
        Assert.Equal(["▁top", "l", "e", "f", "t"], tokenizer.EncodeToPieces("topleft"));
        Assert.Equal([2], tokenizer.Encode(""));
    }

    [Fact]
    public void TheModelFileIsDeterministic()
    {
        var a = SentencePieceVocabularyBuilder.Build(Captions(0, 500));
        var b = SentencePieceVocabularyBuilder.Build(Captions(0, 500));
        Assert.Equal(a, b);
        Assert.Throws<ArgumentException>(() => SentencePieceVocabularyBuilder.Build(["", "  "]));
    }
}
