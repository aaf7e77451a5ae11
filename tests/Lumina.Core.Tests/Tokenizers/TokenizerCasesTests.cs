using System.Text.Json.Nodes;
using Lumina.Testing;
using Lumina.Tokenizers;

namespace Lumina.Core.Tests.Tokenizers;

/// <summary>
/// Every case of golden/tokenizers/tokenizer_cases.json (ids, pieces and decoded text from the reference sentencepiece
/// library) for the Gemma-like, LLaMA-like and T5-like models.
/// </summary>
public class TokenizerCasesTests
{
    public static string Folder => Path.Combine(Golden.Directory, "tokenizers");

    private static JsonArray Cases => (JsonArray)JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "tokenizer_cases.json")))!["cases"]!;

    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        int count = Cases.Count;
        foreach (var model in new[] { "gemma_like", "llama_like", "t5_like" })
        {
            for (int i = 0; i < count; i++)
            {
                data.Add(model, i);
            }
        }

        return data;
    }

    private static SentencePieceTextTokenizer Load(string model) =>
        SentencePieceTextTokenizer.FromModelFile(Path.Combine(Folder, model + ".model"));

    [Theory]
    [MemberData(nameof(AllCases))]
    public void IdsPiecesAndDecodedTextMatchSentencePiece(string model, int index)
    {
        var tokenizer = Load(model);
        var c = Cases[index]!;
        string text = (string)c["text"]!;
        int[] expectedIds = c[model]!.AsArray().Select(x => (int)x!).ToArray();
        string[] expectedPieces = c[model + ".pieces"]!.AsArray().Select(x => (string)x!).ToArray();
        string expectedDecoded = (string)c[model + ".decoded"]!;

        Assert.Equal(expectedIds, tokenizer.Encode(text, addSpecialTokens: false));
        Assert.Equal(expectedPieces, tokenizer.EncodeToPieces(text));
        Assert.Equal(expectedDecoded, tokenizer.Decode(expectedIds));
    }

    [Fact]
    public void T5LikeModelHasNoBosAndStillLoads()
    {
        // The t5_like model has bos_id = -1, which Microsoft.ML.Tokenizers 2.0.1 cannot load on its own.
        byte[] bytes = File.ReadAllBytes(Path.Combine(Folder, "t5_like.model"));
        var info = SentencePieceModelInfo.Read(bytes);
        Assert.Equal(-1, info.BosId);
        Assert.Equal(SentencePieceModelType.Unigram, info.ModelType);
        Assert.Throws<IndexOutOfRangeException>(() =>
        {
            using var s = new MemoryStream(bytes);
            Microsoft.ML.Tokenizers.SentencePieceTokenizer.Create(s, false, false);
        });

        var tokenizer = Load("t5_like");
        Assert.Null(tokenizer.BosId);
        Assert.Equal(1, tokenizer.EosId);
        Assert.Equal(0, tokenizer.PadId);
        Assert.Equal(2, tokenizer.UnkId);
        Assert.Equal(320, tokenizer.VocabularySize);
        // The stand-in BOS must not leak into encodings: "<pad>" text is not produced by segmentation.
        Assert.DoesNotContain(0, tokenizer.Encode("A red circle.", addSpecialTokens: false));
    }

    [Theory]
    [InlineData("gemma_like", 2, 1, 0, 3)]
    [InlineData("llama_like", 1, 2, null, 0)]
    public void SpecialIdsComeFromTheModelWithoutJson(string model, int bos, int eos, int? pad, int unk)
    {
        var tokenizer = Load(model);
        Assert.Equal(bos, tokenizer.BosId);
        Assert.Equal(eos, tokenizer.EosId);
        Assert.Equal(pad, tokenizer.PadId);
        Assert.Equal(unk, tokenizer.UnkId);
    }
}
