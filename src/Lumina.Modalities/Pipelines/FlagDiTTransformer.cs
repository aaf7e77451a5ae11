using Lumina.Guidance;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>Lumina-T2I's <see cref="FlagDiT"/> behind <see cref="IImageTransformer"/>. Owns the model.</summary>
public sealed class FlagDiTTransformer : IImageTransformer
{
    /// <summary>Wraps <paramref name="model"/> (put in eval mode).</summary>
    /// <param name="model">The loaded model; disposed with this wrapper.</param>
    /// <param name="baseSequenceLength">
    /// Token count at the training resolution, eol tokens included, for proportional attention: 64² + 2·64 = 4224 for
    /// the released 1024-px model (upstream's value).
    /// </param>
    public FlagDiTTransformer(FlagDiT model, int baseSequenceLength = 4224)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseSequenceLength, 2);
        Model = model;
        BaseSequenceLength = baseSequenceLength;
        model.eval();
    }

    /// <summary>The wrapped model.</summary>
    public FlagDiT Model { get; }

    /// <summary>Token count at the training resolution (proportional attention's base).</summary>
    public int BaseSequenceLength { get; }

    /// <inheritdoc />
    public int LatentChannels => Model.Config.InChannels;

    /// <inheritdoc />
    public int PatchSize => Model.Config.PatchSize;

    /// <inheritdoc />
    public int CaptionDim => Model.Config.CaptionDim;

    /// <summary>
    /// Resolution extrapolation for Flag-DiT is NTK scaling of the 1-D RoPE by the area ratio to 1024², i.e. the square
    /// of <see cref="TransformerCallOptions.ScaleFactor"/>; the watershed does not apply.
    /// </summary>
    public Tensor GuidedVelocity(Tensor x, Tensor t, CaptionEmbeddings captions, double guidanceScale, TransformerCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentNullException.ThrowIfNull(options);
        var forward = new FlagDiTForwardOptions
        {
            NtkFactor = options.ScaleFactor is { } s ? s * s : null,
            BaseSequenceLength = options.ProportionalAttention ? BaseSequenceLength : null,
        };
        using var noGrad = no_grad();
        var output = Model.Forward(ClassifierFreeGuidance.DuplicateFirstHalf(x), t, captions.Features, captions.Mask, forward);
        return ClassifierFreeGuidance.CombineIntoBothHalves(output, new GuidanceOptions { Scale = guidanceScale });
    }

    /// <inheritdoc />
    public void Dispose() => Model.Dispose();
}
