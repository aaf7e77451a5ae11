using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Testing;
using Lumina.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training.Tests;

/// <summary>Tiny real models for the trainer tests: a Next-DiT and a Gemma encoder with the golden Gemma-like tokenizer.</summary>
internal static class TinyModels
{
    public static readonly NextDiTConfig DiTConfig = new()
    {
        PatchSize = 2, InChannels = 3, Dim = 32, Layers = 2, Heads = 2, KvHeads = 1, MultipleOf = 16,
        LearnSigma = true, QkNorm = true, CaptionDim = 32,
    };

    public static NextDiT NextDiT(long seed)
    {
        var model = new NextDiT(DiTConfig);
        DiTInitializer.Initialize(model, seed);
        return model;
    }

    /// <summary>
    /// A tiny Next-DiT with every weight random (gates and adaLN included), standing in for a pretrained model: a freshly
    /// initialised one has zero gates, so its attention and FFN weights get no gradient yet.
    /// </summary>
    public static NextDiT PretrainedLike(long seed)
    {
        var model = new NextDiT(DiTConfig);
        using var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (_, p) in model.named_parameters()) p.normal_(0, 0.2, generator);
        }
        return model;
    }

    private static readonly Lazy<SentencePieceTextTokenizer> Tokenizer = new(() =>
        SentencePieceTextTokenizer.FromModelFile(Path.Combine(Golden.Directory, "tokenizers", "gemma_like.model")));

    /// <summary>A 2-layer Gemma (vocab of the golden Gemma-like tokenizer) with seeded random weights, frozen.</summary>
    public static GemmaCaptionEncoder CaptionEncoder()
    {
        var config = new GemmaConfig
        {
            VocabSize = Tokenizer.Value.VocabularySize, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2,
            NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 16,
        };
        var model = new DecoderTextModel(config);
        using var generator = new Generator(7);
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters())
            {
                if (name.Contains("norm", StringComparison.Ordinal)) p.zero_();
                else p.normal_(0, 0.05, generator);
                p.requires_grad = false;
            }
        }
        return new GemmaCaptionEncoder(model, Tokenizer.Value, ownsModel: true);
    }

    /// <summary>A fixed batch of smooth coloured patterns in [−1, 1] with distinct captions.</summary>
    public static TrainingBatch FixedBatch(int size = 4, int pixels = 8)
    {
        using var generator = new Generator(11);
        var coarse = rand([size, 3, 2, 2], generator: generator) * 2 - 1;
        var data = nn.functional.interpolate(coarse, [pixels, pixels], mode: InterpolationMode.Bilinear, align_corners: true);
        coarse.Dispose();
        string[] captions = ["a red circle on the left", "a blue square at the top", "a green triangle in the center", "a yellow circle at the bottom"];
        return new TrainingBatch(data, captions.Take(size).ToArray());
    }
}

/// <summary>Serves the same batch at every step.</summary>
internal sealed class FixedData(Func<TrainingBatch> make) : ITrainingData
{
    public TrainingBatch GetBatch(long step, int batchSize) => make();
}
