using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;

namespace Lumina.Training.Demo;

/// <summary>
/// Everything that defines the shapes demo model: a small pixel-space Next-DiT (the same class as the 2B), a tiny
/// Gemma-architecture text encoder with seeded random weights (kept frozen: its features already tell the words apart),
/// a SentencePiece tokenizer built from the training captions, and the training schedule. The defaults are the
/// recipe of the model shipped in <c>models/lumina-demo</c>.
/// </summary>
public sealed record DemoModelRecipe
{
    /// <summary>Image side in pixels (the model works directly on 32×32 RGB).</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>The Next-DiT: 3 input channels, patch 2 (256 tokens at 32 px), 4 layers of width 128, GQA 4:2.</summary>
    public NextDiTConfig Transformer { get; init; } = new()
    {
        PatchSize = 2, InChannels = 3, Dim = 128, Layers = 4, Heads = 4, KvHeads = 2, MultipleOf = 32,
        LearnSigma = false, QkNorm = true, CaptionDim = 64,
    };

    /// <summary>
    /// The text encoder's architecture (<see cref="DecoderTextConfig.VocabSize"/> is replaced by the tokenizer's size and
    /// <see cref="DecoderTextConfig.HiddenSize"/> must equal the transformer's <see cref="DiTConfig.CaptionDim"/>).
    /// </summary>
    public GemmaConfig TextEncoder { get; init; } = new()
    {
        HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = 1, HeadDim = 32,
        MaxPositionEmbeddings = 256,
    };

    /// <summary>Seed of the text encoder's random weights.</summary>
    public long TextEncoderSeed { get; init; } = 1234;

    /// <summary>How many training captions the tokenizer's vocabulary is built from.</summary>
    public int TokenizerCorpusSize { get; init; } = 20_000;

    /// <summary>Seed of the training stream of <see cref="Shapes.ShapesDataset"/> (held-out evaluation uses another).</summary>
    public long DataSeed { get; init; }

    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 8000;

    /// <summary>Training settings (batch, learning rate, EMA, caption dropout, seed).</summary>
    public FlowMatchingTrainerOptions Training { get; init; } = new()
    {
        BatchSize = 32, LearningRate = 5e-4, EmaDecay = 0.999, CaptionDropout = 0.1, CheckpointEvery = 500,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public void Validate()
    {
        Transformer.Validate();
        Training.Validate();
        if (Transformer.InChannels != 3) throw new ArgumentException($"The demo model works on RGB pixels: Transformer.InChannels must be 3; got {Transformer.InChannels}.");
        if (TextEncoder.HiddenSize != Transformer.CaptionDim)
            throw new ArgumentException($"TextEncoder.HiddenSize ({TextEncoder.HiddenSize}) must equal Transformer.CaptionDim ({Transformer.CaptionDim}).");
        if (ImageSize < 32 || ImageSize % 16 != 0 || ImageSize % Transformer.PatchSize != 0)
            throw new ArgumentException($"ImageSize must be a multiple of 16 (and of the patch size) of at least 32; got {ImageSize}.");
        if (Steps < 1) throw new ArgumentException($"Steps must be at least 1; got {Steps}.");
        if (TokenizerCorpusSize < 1) throw new ArgumentException($"TokenizerCorpusSize must be at least 1; got {TokenizerCorpusSize}.");
    }
}
