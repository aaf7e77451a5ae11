using Lumina.Models.TextEncoders;
using Lumina.Guidance;
using Lumina.Models.DiT;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>Lumina-Next's <see cref="NextDiT"/> behind <see cref="IImageTransformer"/> (and the compositional
/// <see cref="IRegionalImageTransformer"/>). Owns the model.</summary>
public sealed class NextDiTTransformer : IRegionalImageTransformer
{
    /// <summary>Wraps <paramref name="model"/> (put in eval mode).</summary>
    /// <param name="model">The loaded model; disposed with this wrapper.</param>
    /// <param name="baseSequenceLength">
    /// Token count at the training resolution, for proportional attention: (1024/16)² = 4096 for the released models.
    /// </param>
    public NextDiTTransformer(NextDiT model, int baseSequenceLength = 4096)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseSequenceLength, 2);
        Model = model;
        BaseSequenceLength = baseSequenceLength;
        model.eval();
    }

    /// <summary>The wrapped model.</summary>
    public NextDiT Model { get; }

    /// <summary>Token count at the training resolution (proportional attention's base).</summary>
    public int BaseSequenceLength { get; }

    /// <inheritdoc />
    public int LatentChannels => Model.Config.InChannels;

    /// <inheritdoc />
    public int PatchSize => Model.Config.PatchSize;

    /// <inheritdoc />
    public int CaptionDim => Model.Config.CaptionDim;

    /// <inheritdoc />
    public Tensor GuidedVelocity(Tensor x, Tensor t, CaptionEmbeddings captions, double guidanceScale, TransformerCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(captions);
        var forward = ForwardOptions(options);
        using var noGrad = no_grad();
        var output = Model.Forward(ClassifierFreeGuidance.DuplicateFirstHalf(x), t, captions.Features, captions.Mask, forward);
        return ClassifierFreeGuidance.CombineIntoBothHalves(output, new GuidanceOptions { Scale = guidanceScale });
    }

    /// <inheritdoc />
    public Tensor GuidedRegionalVelocity(Tensor x, Tensor t, RegionalCaptions captions, double guidanceScale, TransformerCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(captions);
        using var noGrad = no_grad();
        var output = Model.ForwardCompositional(ClassifierFreeGuidance.DuplicateFirstHalf(x), t, captions, ForwardOptions(options));
        return ClassifierFreeGuidance.CombineIntoBothHalves(output, new GuidanceOptions { Scale = guidanceScale });
    }

    private NextDiTForwardOptions ForwardOptions(TransformerCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new NextDiTForwardOptions
        {
            ScaleFactor = options.ScaleFactor,
            ScaleWatershed = options.ScaleWatershed,
            BaseSequenceLength = options.ProportionalAttention ? BaseSequenceLength : null,
            BlockCache = options.BlockCache,
        };
    }

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}
