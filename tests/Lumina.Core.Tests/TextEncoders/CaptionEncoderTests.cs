using Lumina.Core.Tests.Tokenizers;
using Lumina.Guidance;
using Lumina.Models.TextEncoders;
using Lumina.Testing;
using Lumina.Tokenizers;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.TextEncoders;

/// <summary>
/// The per-family caption encoders reproduce upstream's tokenization, padding, truncation, mask handling and choice of
/// hidden state. Tiny seeded models sized to the golden tokenizers' vocabularies stand in for the released encoders.
/// </summary>
public class CaptionEncoderTests
{
    private const string Prompt = "A red circle on the left, blue background.";

    private static SentencePieceTextTokenizer Tokenizer(string name) =>
        SentencePieceTextTokenizer.FromModelFile(Path.Combine(TokenizerCasesTests.Folder, name + ".model"));

    private static DecoderTextModel TinyGemma()
    {
        manual_seed(1);
        return new DecoderTextModel(new GemmaConfig
        {
            VocabSize = 1200, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 3,
            NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 16,
        });
    }

    private static DecoderTextModel TinyLlama()
    {
        manual_seed(2);
        return new DecoderTextModel(new LlamaConfig
        {
            VocabSize = 1200, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4,
        });
    }

    private static T5EncoderModel TinyT5()
    {
        manual_seed(3);
        return new T5EncoderModel(new T5Config
        {
            VocabSize = 320, DModel = 32, DKv = 8, DFf = 64, NumLayers = 2, NumHeads = 4, FeedForwardProj = "gated-gelu",
        });
    }

    private static long[] Row(TokenBatch batch, int row) => batch.Row(row).ToArray();

    [Fact]
    public void GemmaPadsPromptAndEmptyNegativeToAMultipleOf8AndUsesThePenultimateState()
    {
        using var model = TinyGemma();
        var tokenizer = Tokenizer("gemma_like");
        using var encoder = new GemmaCaptionEncoder(model, tokenizer);

        var batch = encoder.Tokenize(new[] { Prompt, "" });
        // gemma_like ids of the prompt (tokenizer_cases.json), BOS (2) first, padding id 0 to 16 = next multiple of 8.
        long[] expected0 = { 2, 1058, 298, 392, 282, 262, 341, 1057, 329, 359, 1056, 0, 0, 0, 0, 0 };
        long[] expected1 = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        Assert.Equal(16, batch.SequenceLength);
        Assert.Equal(expected0, Row(batch, 0));
        Assert.Equal(expected1, Row(batch, 1));
        Assert.Equal(11, batch.Length(0));
        Assert.Equal(1, batch.Length(1));

        using var embeddings = ClassifierFreeGuidance.EncodeCaptions(encoder, Prompt);
        Assert.Equal(new long[] { 2, 16, 32 }, embeddings.Features.shape);
        Assert.Equal(new long[] { 2, 16 }, embeddings.Mask.shape);
        Assert.Equal(batch.AttentionMask.ToArray(), embeddings.Mask.data<long>().ToArray());

        using var ids = batch.InputIdsTensor();
        using var mask = batch.AttentionMaskTensor();
        using var all = model.Forward(ids, mask, outputHiddenStates: true);
        TensorAssert.Equal(all.HiddenState(-2), embeddings.Features, "hidden_states[-2] with the right-padded mask");
    }

    [Fact]
    public void GemmaTruncatesLongPromptsAt256KeepingBosLikeUpstream()
    {
        using var model = TinyGemma();
        var tokenizer = Tokenizer("gemma_like");
        using var encoder = new GemmaCaptionEncoder(model, tokenizer);
        string longPrompt = string.Join(" ", Enumerable.Repeat("The majestic beauty of a waterfall cascading down a cliff into a serene lake.", 30));
        var textIds = tokenizer.Encode(longPrompt, addSpecialTokens: false);
        Assert.True(textIds.Count > 400);

        var batch = encoder.Tokenize(new[] { longPrompt, "short" });
        // Hugging Face truncation (right side, special tokens kept): BOS + the first 255 text tokens; 256 is already a
        // multiple of 8, and the short prompt is padded to it.
        Assert.Equal(256, batch.SequenceLength);
        Assert.Equal(new long[] { 2 }.Concat(textIds.Take(255).Select(i => (long)i)), Row(batch, 0));
        Assert.Equal(256, batch.Length(0));

        using var embeddings = encoder.Encode(new[] { longPrompt });
        Assert.Equal(256, embeddings.TokenCount);
    }

    [Fact]
    public void EmptyPromptYieldsAValidMaskAndFiniteFeatures()
    {
        using var gemma = new GemmaCaptionEncoder(TinyGemma(), Tokenizer("gemma_like"), ownsModel: true);
        using (var e = gemma.Encode(new[] { "" }))
        {
            Assert.Equal(new long[] { 1, 0, 0, 0, 0, 0, 0, 0 }, e.Mask[0].data<long>().ToArray());
            Assert.False(e.Features.isnan().any().item<bool>());
            Assert.Equal(1L, e.Mask.sum().item<long>());
        }

        using var llama = new LlamaCaptionEncoder(TinyLlama(), Tokenizer("llama_like"), ownsModel: true);
        using (var e = llama.Encode(new[] { "" }))
        {
            Assert.Equal(new long[] { 1, 1 }, e.Mask[0].data<long>().ToArray());
            Assert.Equal(new long[] { 1, 2, 32 }, e.Features.shape);
            Assert.False(e.Features.isnan().any().item<bool>());
        }

        using var t5 = new T5CaptionEncoder(TinyT5(), Tokenizer("t5_like"), ownsModel: true);
        var t5Batch = t5.Tokenize(new[] { "" });
        Assert.Equal(new long[] { 1 }.Concat(Enumerable.Repeat(0L, 76)), Row(t5Batch, 0));
        using (var e = t5.Encode(new[] { "" }))
        {
            Assert.Equal(new long[] { 1, 77, 32 }, e.Features.shape);
            Assert.False(e.Features.isnan().any().item<bool>());
        }
    }

    [Fact]
    public void LlamaAddsBosAndEosPadsWithZeroAndRunsTheModelWithoutMask()
    {
        using var model = TinyLlama();
        var tokenizer = Tokenizer("llama_like");
        using var encoder = new LlamaCaptionEncoder(model, tokenizer);
        var batch = encoder.Tokenize(new[] { Prompt, "" });
        long[] expected0 = { 1, 261, 298, 392, 282, 262, 341, 1057, 329, 359, 1056, 2 };
        Assert.Equal(expected0, Row(batch, 0));
        Assert.Equal(new long[] { 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, Row(batch, 1));

        using var embeddings = ClassifierFreeGuidance.EncodeCaptions(encoder, Prompt);
        using var ids = batch.InputIdsTensor();
        using var unmasked = model.Forward(ids);
        TensorAssert.Equal(unmasked.LastHiddenState, embeddings.Features, "last_hidden_state without a mask");
        Assert.Equal(batch.AttentionMask.ToArray(), embeddings.Mask.data<long>().ToArray());

        // Passing the mask to the LLM would change the padded row, which upstream never does.
        using var mask = batch.AttentionMaskTensor();
        using var masked = model.Forward(ids, mask);
        Assert.False(masked.LastHiddenState[1].allclose(embeddings.Features[1], rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void LlamaOptionalLimitCutsLikeUpstreamTraining()
    {
        using var encoder = new LlamaCaptionEncoder(TinyLlama(), Tokenizer("llama_like"), maxLength: 5, ownsModel: true);
        var batch = encoder.Tokenize(new[] { Prompt });
        Assert.Equal(new long[] { 1, 261, 298, 392, 282 }, Row(batch, 0));
    }

    [Fact]
    public void T5AddsEosTruncatesAt77AndPadsToExactly77()
    {
        using var model = TinyT5();
        var tokenizer = Tokenizer("t5_like");
        using var encoder = new T5CaptionEncoder(model, tokenizer);
        string longPrompt = string.Join(" ", Enumerable.Repeat(Prompt, 5));
        var textIds = tokenizer.Encode(longPrompt, addSpecialTokens: false);
        Assert.True(textIds.Count > 100);

        var batch = encoder.Tokenize(new[] { Prompt, longPrompt });
        long[] short0 = { 9, 3, 42, 12, 77, 15, 81, 4, 3, 24, 5, 7, 3, 13, 39, 10, 6, 21, 23, 4, 18, 22, 28, 57, 8, 1 };
        Assert.Equal(short0.Concat(Enumerable.Repeat(0L, 77 - short0.Length)), Row(batch, 0));
        // Truncation keeps EOS last: 76 text tokens then EOS.
        Assert.Equal(textIds.Take(76).Select(i => (long)i).Append(1L), Row(batch, 1));

        using var embeddings = encoder.Encode(new[] { Prompt, longPrompt });
        using var ids = batch.InputIdsTensor();
        using var unmasked = model.Forward(ids);
        TensorAssert.Equal(unmasked.LastHiddenState, embeddings.Features, "last_hidden_state without a mask");
        Assert.Equal(2L * 77, embeddings.Mask.sum().item<long>());
    }

    [Theory]
    [InlineData("一只可爱的猫坐在窗台上")]
    [InlineData("富士山の夜明け、桜が舞う")]
    [InlineData("Кошка сидит на подоконнике.")]
    [InlineData("Ünïcödé àccents — “quotes”")]
    [InlineData("Emoji never seen: 🦄🧬 ✨")]
    public void MultilingualAndUnseenEmojiPromptsEncode(string prompt)
    {
        var tokenizer = Tokenizer("gemma_like");
        var ids = tokenizer.Encode(prompt, addSpecialTokens: false);
        Assert.NotEmpty(ids);
        Assert.Equal(prompt, tokenizer.Decode(ids));

        using var encoder = new GemmaCaptionEncoder(TinyGemma(), tokenizer, ownsModel: true);
        using var embeddings = encoder.Encode(new[] { prompt, "" });
        Assert.Equal(ids.Count + 1L, embeddings.Mask[0].sum().item<long>());
        Assert.False(embeddings.Features.isnan().any().item<bool>());
    }

    [Fact]
    public void UnseenEmojiTakeTheByteFallbackPath()
    {
        var ids = Tokenizer("gemma_like").Encode("🦄", addSpecialTokens: false);
        // <0xF0> <0x9F> <0xA6> <0x84>: the UTF-8 bytes as byte pieces (ids 244, 163, 170, 136 in gemma_like).
        Assert.Equal(new[] { 244, 163, 170, 136 }, ids);
    }

    [Fact]
    public void RejectsEmptyBatchesAndNullPrompts()
    {
        using var encoder = new GemmaCaptionEncoder(TinyGemma(), Tokenizer("gemma_like"), ownsModel: true);
        Assert.Throws<ArgumentException>(() => encoder.Encode(Array.Empty<string>()));
        Assert.Throws<ArgumentException>(() => encoder.Encode(new string[] { null! }));
    }
}
