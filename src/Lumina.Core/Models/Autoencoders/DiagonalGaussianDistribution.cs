using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The latent distribution an autoencoder's encoder predicts: a Gaussian with a diagonal covariance, read from
/// "moments" whose channel axis (dim 1) holds the mean, then the log-variance (clamped to [−30, 20]).
/// Works for 2-D (B, 2C, H, W) and 1-D (B, 2C, T) moments. Owns its tensors: dispose it.
/// </summary>
internal sealed class DiagonalGaussianDistribution : IDisposable
{
    /// <summary>Splits moments into mean and log-variance. The moments tensor is not kept.</summary>
    /// <param name="moments">Encoder output with an even channel count at dim 1.</param>
    /// <exception cref="ArgumentException">The moments have fewer than 3 dims or an odd channel count.</exception>
    public DiagonalGaussianDistribution(Tensor moments)
    {
        ArgumentNullException.ThrowIfNull(moments);
        if (moments.dim() < 3 || moments.shape[1] % 2 != 0)
            throw new ArgumentException($"Moments must be (B, 2C, ...) with an even channel count; got shape [{string.Join(", ", moments.shape)}].", nameof(moments));
        using var scope = NewDisposeScope();
        var parts = moments.chunk(2, 1);
        Mean = parts[0].contiguous();
        LogVar = parts[1].clamp(-30.0, 20.0);
        Std = LogVar.mul(0.5).exp_();
        MoveToOuterDisposeScope();
    }

    /// <summary>Moves the mean, log-variance and standard deviation out of the current dispose scope, as
    /// <c>Tensor.MoveToOuterDisposeScope</c> does for one tensor; returns this distribution.</summary>
    internal DiagonalGaussianDistribution MoveToOuterDisposeScope()
    {
        Mean.MoveToOuterDisposeScope();
        LogVar.MoveToOuterDisposeScope();
        Std.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>The mean (the mode of the distribution).</summary>
    public Tensor Mean { get; }

    /// <summary>The clamped log-variance.</summary>
    public Tensor LogVar { get; }

    /// <summary>The standard deviation, <c>exp(0.5 · logvar)</c>.</summary>
    public Tensor Std { get; }

    /// <summary>The mode (a copy of the mean, owned by the caller).</summary>
    public Tensor Mode() => Mean.clone();

    /// <summary>Draws <c>mean + std · ε</c> with ε ~ N(0, 1) from the given generator (the global one when null).</summary>
    /// <param name="generator">A seeded generator on the latents' device, for reproducible samples.</param>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var eps = randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return Mean.add(Std.mul(eps)).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the mean, log-variance and standard deviation.</summary>
    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
    }
}
