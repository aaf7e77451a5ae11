using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Guidance;

/// <summary>
/// Turns a model evaluated on the batch [cond; uncond] into the velocity a solver integrates, with
/// classifier-free guidance (<see cref="ClassifierFreeGuidance"/>), optional truncation and renormalisation.
/// The time handed to the model is a [batch] tensor in the state's dtype, as upstream builds it.
/// </summary>
public static class GuidedVelocity
{
    /// <summary>
    /// Upstream's layout: the solver state is the doubled batch [2B] (the noise repeated ×2), every call runs
    /// the model on [first half; first half] and the guided result is written to both halves
    /// (<c>forward_with_cfg</c>). Read the first half of the result at the end.
    /// </summary>
    /// <param name="model">The model over [cond; uncond] (x [2B, …], t [2B]).</param>
    /// <param name="options">Guidance settings.</param>
    /// <param name="conditionalOnly">Optional model over the conditioned half only (x [B, …], t [B]); with
    /// truncation it halves the cost of the unguided steps. Without it those steps still run the doubled batch.</param>
    public static VelocityFunction ForDoubledBatch(BatchedModel model, GuidanceOptions? options = null, BatchedModel? conditionalOnly = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new GuidanceOptions();
        options.Validate();
        return (x, t) =>
        {
            using var scope = torch.NewDisposeScope();
            var time = torch.full(new[] { x.shape[0] }, t, dtype: x.dtype, device: x.device);
            var input = ClassifierFreeGuidance.DuplicateFirstHalf(x);
            var half = x.shape[0] / 2;
            torch.Tensor result;
            if (options.TruncateAfter is { } stop && t >= stop)
            {
                var cond = conditionalOnly is null
                    ? model(input, time).narrow(0, 0, half)
                    : conditionalOnly(input.narrow(0, 0, half), time.narrow(0, 0, half));
                result = torch.cat(new[] { cond, cond }, 0);
            }
            else
            {
                var output = model(input, time);
                result = ClassifierFreeGuidance.Combine(output, options.Scale, options.Channels);
                if (options.Renormalize)
                {
                    var cond = output.narrow(0, 0, half);
                    result = Renormalize(result, torch.cat(new[] { cond, cond }, 0), options.Channels);
                }
            }
            return result.MoveToOuterDisposeScope();
        };
    }

    /// <summary>
    /// The plain layout: the solver state is the batch [B]; each call runs the model on [x; x] and returns the
    /// guided first half (channels that are not guided keep the conditioned output).
    /// </summary>
    /// <param name="model">The model over [cond; uncond] (x [2B, …], t [2B]).</param>
    /// <param name="options">Guidance settings.</param>
    /// <param name="conditionalOnly">Optional model over the conditioned batch only, used by truncated steps.</param>
    public static VelocityFunction ForBatch(BatchedModel model, GuidanceOptions? options = null, BatchedModel? conditionalOnly = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new GuidanceOptions();
        options.Validate();
        return (x, t) =>
        {
            using var scope = torch.NewDisposeScope();
            var b = x.shape[0];
            var time = torch.full(new[] { b }, t, dtype: x.dtype, device: x.device);
            torch.Tensor result;
            if (options.TruncateAfter is { } stop && t >= stop)
            {
                result = conditionalOnly is null
                    ? model(torch.cat(new[] { x, x }, 0), torch.cat(new[] { time, time }, 0)).narrow(0, 0, b)
                    : conditionalOnly(x, time);
            }
            else
            {
                var output = model(torch.cat(new[] { x, x }, 0), torch.cat(new[] { time, time }, 0));
                result = ClassifierFreeGuidance.Combine(output, options.Scale, options.Channels).narrow(0, 0, b);
                if (options.Renormalize)
                    result = Renormalize(result, output.narrow(0, 0, b), options.Channels);
            }
            return result.contiguous().MoveToOuterDisposeScope();
        };
    }

    /// <summary>Unguided velocity from a conditioned model (x [B, …], t [B]).</summary>
    /// <param name="model">The model.</param>
    public static VelocityFunction Unguided(BatchedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (x, t) =>
        {
            using var scope = torch.NewDisposeScope();
            var time = torch.full(new[] { x.shape[0] }, t, dtype: x.dtype, device: x.device);
            return model(x, time).MoveToOuterDisposeScope();
        };
    }

    /// <summary>Scales the guided channels of <paramref name="guided"/> so their norm over the last dimension
    /// equals that of <paramref name="conditioned"/>.</summary>
    private static torch.Tensor Renormalize(torch.Tensor guided, torch.Tensor conditioned, GuidanceChannels channels)
    {
        var c = guided.shape[1];
        var n = channels == GuidanceChannels.All ? c : Math.Min(ClassifierFreeGuidance.LuminaGuidedChannels, c);
        var g = guided.narrow(1, 0, n);
        var condNorm = conditioned.narrow(1, 0, n).norm(-1, keepdim: true);
        var guidedNorm = g.norm(-1, keepdim: true);
        var scaled = g * (condNorm / guidedNorm);
        return n == c ? scaled : torch.cat(new[] { scaled, guided.narrow(1, n, c - n) }, 1);
    }
}
