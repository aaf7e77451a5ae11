using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Guidance;

/// <summary>
/// Classifier-free guidance, model-agnostic and in one place. A guided call evaluates a <see cref="GuidanceModel"/> on
/// [cond; uncond] and mixes <c>g = uncond + s·(cond − uncond)</c> on the guided channels
/// (<see cref="GuidanceOptions.Channels"/>), then applies the renormalisations the options ask for; a truncated call
/// (<see cref="GuidanceOptions.IsGuidedAt"/> false) evaluates the conditional half alone and returns it as is.
/// <para>Two state layouts are offered: the plain batch (state [B], model input [x; x], result [B]) and upstream's
/// doubled batch (state [2B] = the noise repeated ×2, model input [first half; first half], guided result written into
/// both halves; channels that are not guided keep each half's raw output), which reproduces upstream's full
/// <c>forward_with_cfg</c> trajectories.</para>
/// </summary>
public static class ClassifierFreeGuidance
{
    /// <summary>
    /// Encodes the batch <c>[prompt, negativePrompt ?? ""]</c> that classifier-free guidance runs on, as the upstream demos
    /// do (the conditional row first, the unconditional second).
    /// </summary>
    /// <param name="encoder">The caption encoder.</param>
    /// <param name="prompt">The prompt.</param>
    /// <param name="negativePrompt">The negative prompt; null or empty gives the empty caption.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public static Lumina.Models.TextEncoders.CaptionEmbeddings EncodeCaptions(Lumina.Models.TextEncoders.ICaptionEncoder encoder, string prompt,
        string? negativePrompt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(prompt);
        return encoder.Encode([prompt, negativePrompt ?? string.Empty], cancellationToken);
    }

    /// <summary>The number of guided channels in Lumina-Next's mode (<see cref="GuidanceChannels.LuminaFirstThree"/>).</summary>
    public const int LuminaGuidedChannels = 3;

    /// <summary>How many of <paramref name="channels"/> output channels are guided under <paramref name="mode"/>.</summary>
    /// <param name="mode">The channel subset.</param>
    /// <param name="channels">The output's channel count (dimension 1).</param>
    public static long GuidedChannelCount(GuidanceChannels mode, long channels)
        => mode == GuidanceChannels.All ? channels : Math.Min(LuminaGuidedChannels, channels);

    /// <summary>Returns <c>cat([x[:B/2], x[:B/2]])</c>: the model input of upstream's doubled-batch guided call.</summary>
    /// <param name="x">The doubled state [2B, …].</param>
    public static Tensor DuplicateFirstHalf(Tensor x)
    {
        CheckEvenBatch(x, nameof(x));
        using var scope = NewDisposeScope();
        var half = x.narrow(0, 0, x.shape[0] / 2);
        return cat([half, half], 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Combines a model output over [cond; uncond] ([2B, C, …]) into the guided output [B, C, …]: guided channels mixed
    /// and renormalised as <paramref name="options"/> says, the other channels taken from the conditional half.
    /// </summary>
    /// <param name="modelOutput">Raw output, first half conditioned, second half unconditioned.</param>
    /// <param name="options">Scale, channels and renormalisation (truncation is not read here).</param>
    public static Tensor Combine(Tensor modelOutput, GuidanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOutput(modelOutput);
        using var scope = NewDisposeScope();
        var (mixed, cond, rest) = Mix(modelOutput, options);
        return (rest is null ? mixed : cat([mixed, rest.narrow(0, 0, cond.shape[0])], 1)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Upstream's layout of <see cref="Combine"/>: the guided channels are written into both halves of the [2B] result,
    /// and channels that are not guided keep each half's raw output (what upstream <c>forward_with_cfg</c> returns).
    /// </summary>
    /// <param name="modelOutput">Raw output over [cond; uncond] ([2B, C, …]).</param>
    /// <param name="options">Scale, channels and renormalisation.</param>
    public static Tensor CombineIntoBothHalves(Tensor modelOutput, GuidanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOutput(modelOutput);
        using var scope = NewDisposeScope();
        var (mixed, _, rest) = Mix(modelOutput, options);
        var both = cat([mixed, mixed], 0);
        return (rest is null ? both : cat([both, rest], 1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One guided velocity over the plain batch: x [B, …] at flow time <paramref name="time"/>. A guided call runs
    /// <paramref name="model"/> on [x; x] (both halves) and returns <see cref="Combine"/>; a truncated call runs the
    /// conditional half alone (batch B) and returns its output.
    /// </summary>
    /// <param name="model">The model over the batch it is handed.</param>
    /// <param name="x">The state [B, …].</param>
    /// <param name="time">The flow time (0 = noise, 1 = data); the model gets it as [rows] in x's dtype.</param>
    /// <param name="options">Guidance settings.</param>
    /// <param name="step">0-based index of the grid interval this call belongs to (for step-fraction truncation).</param>
    /// <param name="totalSteps">Grid intervals of the run (for step-fraction truncation).</param>
    public static Tensor Velocity(GuidanceModel model, Tensor x, double time, GuidanceOptions options, int? step = null, int? totalSteps = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        using var scope = NewDisposeScope();
        var b = x.shape[0];
        if (!options.IsGuidedAt(time, step, totalSteps))
            return Checked(model(x, Times(b, time, x), GuidanceBatch.ConditionalOnly), x.shape).MoveToOuterDisposeScope();
        var output = Checked(model(cat([x, x], 0), Times(2 * b, time, x), GuidanceBatch.Both), [2 * b, .. x.shape[1..]]);
        return Combine(output, options).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One guided velocity in upstream's doubled layout: x [2B, …]. A guided call runs <paramref name="model"/> on
    /// [x[:B]; x[:B]] and returns <see cref="CombineIntoBothHalves"/>; a truncated call runs the conditional half on
    /// x[:B] (batch B) and returns [cond; cond].
    /// </summary>
    /// <param name="model">The model over the batch it is handed.</param>
    /// <param name="x">The doubled state [2B, …].</param>
    /// <param name="time">The flow time.</param>
    /// <param name="options">Guidance settings.</param>
    /// <param name="step">0-based index of the grid interval (for step-fraction truncation).</param>
    /// <param name="totalSteps">Grid intervals of the run (for step-fraction truncation).</param>
    public static Tensor DoubledBatchVelocity(GuidanceModel model, Tensor x, double time, GuidanceOptions options, int? step = null, int? totalSteps = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        CheckEvenBatch(x, nameof(x));
        using var scope = NewDisposeScope();
        var half = x.shape[0] / 2;
        if (!options.IsGuidedAt(time, step, totalSteps))
        {
            var first = x.narrow(0, 0, half);
            var cond = Checked(model(first, Times(half, time, x), GuidanceBatch.ConditionalOnly), first.shape);
            return cat([cond, cond], 0).MoveToOuterDisposeScope();
        }
        var output = Checked(model(DuplicateFirstHalf(x), Times(2 * half, time, x), GuidanceBatch.Both), x.shape);
        return CombineIntoBothHalves(output, options).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The conditional rows of a [cond; uncond] conditioning tensor for <paramref name="batch"/>: all of it for
    /// <see cref="GuidanceBatch.Both"/>, its first half for <see cref="GuidanceBatch.ConditionalOnly"/>. A view.
    /// </summary>
    /// <param name="both">Conditioning for [cond; uncond] (2B rows).</param>
    /// <param name="batch">The rows a call evaluates.</param>
    public static Tensor RowsFor(Tensor both, GuidanceBatch batch)
    {
        ArgumentNullException.ThrowIfNull(both);
        if (batch == GuidanceBatch.Both) return both.alias();
        CheckEvenBatch(both, nameof(both));
        return both.narrow(0, 0, both.shape[0] / 2);
    }

    // The guided channels mixed and renormalised ([B, n, …]), the conditional half of them, and the raw output of the
    // channels that are not guided ([2B, C − n, …], or null when every channel is guided).
    private static (Tensor Mixed, Tensor Cond, Tensor? Unguided) Mix(Tensor output, GuidanceOptions options)
    {
        options.Validate();
        var c = output.shape[1];
        var n = GuidedChannelCount(options.Channels, c);
        var half = output.shape[0] / 2;
        var eps = n == c ? output : output.narrow(1, 0, n);
        var cond = eps.narrow(0, 0, half);
        var uncond = eps.narrow(0, half, half);
        var mixed = uncond + (cond - uncond) * options.Scale;
        if (options.ClipToConditionalNorm > 0)
        {
            // Upstream renorm_cfg: per sample, L2 over every dimension but the batch.
            var dims = Enumerable.Range(1, (int)cond.dim() - 1).Select(d => (long)d).ToArray();
            var maxNorm = linalg.vector_norm(cond, dims: dims, keepdim: true) * options.ClipToConditionalNorm;
            var norm = linalg.vector_norm(mixed, dims: dims, keepdim: true);
            mixed = where(norm >= maxNorm, mixed * (maxNorm / norm), mixed);
        }
        if (options.RescaleToConditionalNorm)
        {
            // diffusers cfg_normalization: along the last axis, unconditionally.
            var condNorm = cond.norm(-1, keepdim: true);
            var norm = mixed.norm(-1, keepdim: true);
            mixed = mixed * (condNorm / norm);
        }
        return (mixed, cond, n == c ? null : output.narrow(1, n, c - n));
    }

    private static Tensor Times(long rows, double time, Tensor like) => full([rows], time, dtype: like.dtype, device: like.device);

    private static Tensor Checked(Tensor? output, ReadOnlySpan<long> shape)
    {
        if (output is null) throw new InvalidOperationException("The guidance model returned null; it must return a velocity shaped like its input.");
        if (!output.shape.AsSpan().SequenceEqual(shape))
            throw new InvalidOperationException(
                $"The guidance model returned shape [{string.Join(", ", output.shape)}] for an input of shape [{string.Join(", ", shape.ToArray())}]; it must return its input's shape.");
        return output;
    }

    private static void CheckOutput(Tensor modelOutput)
    {
        CheckEvenBatch(modelOutput, nameof(modelOutput));
        if (modelOutput.dim() < 2)
            throw new ArgumentException($"The model output must be [2B, C, …]; got [{string.Join(", ", modelOutput.shape)}].", nameof(modelOutput));
    }

    private static void CheckEvenBatch(Tensor x, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.dim() < 1 || x.shape[0] % 2 != 0 || x.shape[0] == 0)
            throw new ArgumentException($"Guidance needs an even, non-empty batch [cond; uncond]; got shape [{string.Join(", ", x.shape)}].", name);
    }
}
