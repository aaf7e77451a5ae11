using Lumina.Testing;
using Lumina.Tokenizers;

namespace Lumina.Core.Tests.Tokenizers;

/// <summary>Loading a Hugging Face tokenizer folder (model + tokenizer_config.json + special_tokens_map.json).</summary>
public class TokenizerFolderTests
{
    private static string Model(string name) => Path.Combine(TokenizerCasesTests.Folder, name + ".model");

    [Fact]
    public void GemmaFolderReadsSpecialTokensAndAddFlags()
    {
        using var folder = new TempFolder();
        File.Copy(Model("gemma_like"), folder.File("tokenizer.model"));
        File.WriteAllText(folder.File("tokenizer_config.json"), """
            {
              "add_bos_token": true,
              "add_eos_token": true,
              "added_tokens_decoder": {
                "0": { "content": "<pad>", "special": true },
                "1": { "content": "<eos>", "special": true },
                "2": { "content": "<bos>", "special": true }
              },
              "bos_token": "<bos>",
              "eos_token": { "content": "<eos>", "lstrip": false },
              "model_max_length": 1000000000000000019884624838656,
              "tokenizer_class": "GemmaTokenizer"
            }
            """);
        File.WriteAllText(folder.File("special_tokens_map.json"), """{ "pad_token": "<pad>", "unk_token": "<unk>" }""");

        var tokenizer = SentencePieceTextTokenizer.FromFolder(folder.Path);
        Assert.Equal(2, tokenizer.BosId);
        Assert.Equal(1, tokenizer.EosId);
        Assert.Equal(0, tokenizer.PadId);
        Assert.True(tokenizer.AddBos);
        Assert.True(tokenizer.AddEos);
        Assert.Equal(new[] { 2, 1058, 1056, 1 }, tokenizer.Encode("A."));
        Assert.Equal("A.", tokenizer.Decode(new[] { 2, 1058, 1056, 1, 0, 0 }));

        var noEos = SentencePieceTextTokenizer.FromFolder(folder.Path, new SentencePieceLoadOptions { AddEos = false });
        Assert.Equal(new[] { 2, 1058, 1056 }, noEos.Encode("A."));
    }

    [Fact]
    public void T5FolderWithSpieceModelAddsEosByClassDefault()
    {
        using var folder = new TempFolder();
        File.Copy(Model("t5_like"), folder.File("spiece.model"));
        File.WriteAllText(folder.File("tokenizer_config.json"), """
            { "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>", "extra_ids": 0, "tokenizer_class": "T5Tokenizer" }
            """);

        var tokenizer = SentencePieceTextTokenizer.FromFolder(folder.Path);
        Assert.Null(tokenizer.BosId);
        Assert.False(tokenizer.AddBos);
        Assert.True(tokenizer.AddEos);
        Assert.Equal(new[] { 9, 8, 1 }, tokenizer.Encode("A."));
    }

    [Fact]
    public void MissingModelAndUnknownSpecialTokenAreExplained()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => SentencePieceTextTokenizer.FromFolder(folder.Path));
        Assert.Contains("tokenizer.model", e.Message);

        File.Copy(Model("llama_like"), folder.File("tokenizer.model"));
        File.WriteAllText(folder.File("tokenizer_config.json"), """{ "pad_token": "<not-a-piece>" }""");
        var bad = Assert.Throws<InvalidDataException>(() => SentencePieceTextTokenizer.FromFolder(folder.Path));
        Assert.Contains("<not-a-piece>", bad.Message);
    }

    [Fact]
    public void LlamaFolderHasNoPadAndRefusesEosItCannotAdd()
    {
        using var folder = new TempFolder();
        File.Copy(Model("llama_like"), folder.File("tokenizer.model"));
        File.WriteAllText(folder.File("tokenizer_config.json"), """
            { "add_bos_token": true, "add_eos_token": false, "bos_token": "<s>", "eos_token": "</s>", "pad_token": null, "tokenizer_class": "LlamaTokenizer" }
            """);
        var tokenizer = SentencePieceTextTokenizer.FromFolder(folder.Path);
        Assert.Null(tokenizer.PadId);
        Assert.Equal(new[] { 1, 261, 1056 }, tokenizer.Encode("A."));

        var t5 = SentencePieceTextTokenizer.FromModelFile(Model("t5_like"));
        Assert.Throws<InvalidOperationException>(() =>
            SentencePieceTextTokenizer.Load(File.ReadAllBytes(Model("t5_like")), new HuggingFaceTokenizerConfig(), new SentencePieceLoadOptions { AddBos = true }));
        Assert.Throws<ArgumentException>(() => t5.EncodeBatch(new[] { "a" }, new TokenBatchOptions { AddBos = true }));
    }
}
