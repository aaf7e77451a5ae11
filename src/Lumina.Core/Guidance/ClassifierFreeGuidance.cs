using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Guidance;

/// <summary>
/// A model evaluated on a doubled batch: x [2B, …] and t [2B] in, output [2B, C, …] out, where the first half is
/// conditioned on the prompt and the second half on the negative prompt. The conditioning itself (caption features and
/// masks for [cond; uncond]) is captured by the delegate.
/// </summary>
/// <param name="x">Latents of the doubled batch.</param>
/// <param name="t">Timesteps of the doubled batch.</param>
public delegate Tensor BatchedModel(Tensor x, Tensor t);

/// <summary>
/// Lumina's classifier-free guidance, model-agnostic. Upstream <c>forward_with_cfg</c> runs the model on the batch
/// [cond; uncond] with the first half of x used for both halves, then sets
/// <c>out = uncond + s·(cond − uncond)</c> on the guided channels and writes that result into both halves. Channels
/// that are not guided (channel 3 in <see cref="GuidanceChannels.LuminaFirstThree"/>) keep each half's raw output.
/// </summary>
public static class ClassifierFreeGuidance
{
    /// <summary>The number of guided channels in Lumina's default mode.</summary>
    public const int LuminaGuidedChannels = 3;

    /// <summary>Returns <c>cat([x[:B/2], x[:B/2]])</c>: the upstream input of a guided call.</summary>
    public static Tensor DuplicateFirstHalf(Tensor x)
    {
        CheckEvenBatch(x, nameof(x));
        using var scope = NewDisposeScope();
        var half = x.narrow(0, 0, x.shape[0] / 2);
        return cat([half, half], 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Combines a model output over [cond; uncond] (shape [2B, C, …]) into the guided output of the same shape.
    /// </summary>
    /// <param name="modelOutput">Raw output, first half conditioned, second half unconditioned.</param>
    /// <param name="scale">Guidance scale s (1 = the conditioned output; upstream demos use 4).</param>
    /// <param name="channels">Which channels are guided.</param>
    public static Tensor Combine(Tensor modelOutput, double scale, GuidanceChannels channels = GuidanceChannels.LuminaFirstThree)
    {
        CheckEvenBatch(modelOutput, nameof(modelOutput));
        if (modelOutput.dim() < 2)
            throw new ArgumentException($"The model output must be [2B, C, …]; got [{string.Join(", ", modelOutput.shape)}].", nameof(modelOutput));
        if (double.IsNaN(scale) || double.IsInfinity(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The guidance scale must be finite.");
        using var scope = NewDisposeScope();
        var c = modelOutput.shape[1];
        var guided = channels == GuidanceChannels.All ? c : Math.Min(LuminaGuidedChannels, c);
        var half = modelOutput.shape[0] / 2;
        var eps = modelOutput.narrow(1, 0, guided);
        var cond = eps.narrow(0, 0, half);
        var uncond = eps.narrow(0, half, half);
        var mixed = uncond + (cond - uncond) * scale;
        var guidedBoth = cat([mixed, mixed], 0);
        var result = guided == c ? guidedBoth : cat([guidedBoth, modelOutput.narrow(1, guided, c - guided)], 1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Wraps a doubled-batch model into a guided velocity over the doubled batch, exactly like upstream
    /// <c>forward_with_cfg</c>: x [2B, …] → duplicate its first half → model → <see cref="Combine"/>.
    /// A sampler keeps a [2B] state (noise repeated ×2) and reads the first half at the end.
    /// </summary>
    public static BatchedModel Guided(BatchedModel model, double scale, GuidanceChannels channels = GuidanceChannels.LuminaFirstThree)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (x, t) =>
        {
            using var scope = NewDisposeScope();
            var output = model(DuplicateFirstHalf(x), t);
            return Combine(output, scale, channels).MoveToOuterDisposeScope();
        };
    }

    /// <summary>
    /// Guided velocity over the plain batch: x [B, …] and t [B] in, x is repeated to [x; x] for the model and the
    /// guided first half [B, …] comes out (channels that are not guided keep the conditioned half). Use this when the
    /// sampler state should not carry the duplicate.
    /// </summary>
    public static BatchedModel GuidedSingle(BatchedModel model, double scale, GuidanceChannels channels = GuidanceChannels.LuminaFirstThree)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (x, t) =>
        {
            using var scope = NewDisposeScope();
            var output = model(cat([x, x], 0), cat([t, t], 0));
            var combined = Combine(output, scale, channels);
            return combined.narrow(0, 0, x.shape[0]).contiguous().MoveToOuterDisposeScope();
        };
    }

    private static void CheckEvenBatch(Tensor x, string name)
    {
        if (x.dim() < 1 || x.shape[0] % 2 != 0 || x.shape[0] == 0)
            throw new ArgumentException($"Guidance needs an even, non-empty batch [cond; uncond]; got shape [{string.Join(", ", x.shape)}].", name);
    }
}
