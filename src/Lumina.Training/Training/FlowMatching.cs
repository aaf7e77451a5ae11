using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>
/// The rectified-flow objective Lumina trains with (upstream <c>transport</c>, linear path, velocity model):
/// x_t = t·x1 + (1 − t)·x0 with x0 ~ N(0, I), target u = x1 − x0, loss = per-sample mean squared error, averaged.
/// </summary>
internal static class FlowMatching
{
    /// <summary>Draws one time per sample in [0, 1) as <paramref name="sampling"/> says, from <paramref name="generator"/>.</summary>
    public static Tensor SampleTimes(long batch, TimestepSampling sampling, Generator generator, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentNullException.ThrowIfNull(generator);
        var t = sampling switch
        {
            TimestepSampling.Uniform => rand([batch], ScalarType.Float32, generator: generator),
            TimestepSampling.LogitNormal => randn([batch], ScalarType.Float32, generator: generator).sigmoid_(),
            _ => throw new ArgumentOutOfRangeException(nameof(sampling), sampling, "Unknown timestep sampling."),
        };
        return device is null ? t : t.to(device);
    }

    /// <summary>The point on the path and its velocity target: x_t = t·x1 + (1 − t)·x0 and u = x1 − x0.</summary>
    /// <param name="x0">Noise, same shape as <paramref name="x1"/>.</param>
    /// <param name="x1">Data [B, …].</param>
    /// <param name="t">Times [B].</param>
    public static (Tensor Xt, Tensor Target) Interpolate(Tensor x0, Tensor x1, Tensor t)
    {
        ArgumentNullException.ThrowIfNull(x0);
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(t);
        if (!x0.shape.SequenceEqual(x1.shape))
            throw new ArgumentException($"Noise [{string.Join(", ", x0.shape)}] and data [{string.Join(", ", x1.shape)}] must have the same shape.", nameof(x0));
        if (t.dim() != 1 || t.shape[0] != x1.shape[0])
            throw new ArgumentException($"Times must be [B] = [{x1.shape[0]}]; got [{string.Join(", ", t.shape)}].", nameof(t));
        using var scope = NewDisposeScope();
        var shape = new long[x1.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x1.shape[0];
        var tb = t.to_type(x1.dtype).view(shape);
        var xt = tb * x1 + (1 - tb) * x0;
        var target = x1 - x0;
        return (xt.MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope());
    }

    /// <summary>Mean over the batch of each sample's mean squared error (upstream <c>mean_flat((v − u)²)</c> then the batch mean).</summary>
    public static Tensor Loss(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"Prediction [{string.Join(", ", prediction.shape)}] and target [{string.Join(", ", target.shape)}] must have the same shape.", nameof(prediction));
        using var scope = NewDisposeScope();
        var perSample = (prediction - target).square().flatten(1).mean([1]);
        return perSample.mean().MoveToOuterDisposeScope();
    }
}
