using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Sampling;

/// <summary>
/// The step-caching policy of one sampling run (TeaCache without its model-specific polynomial rescaling): each call's
/// first-block modulated input is compared with the previous call's by relative L1, mean|m − m_prev| / mean|m_prev|,
/// over the whole batch (so the [cond; uncond] halves of a guided call are skipped or evaluated together). The changes
/// add up since the last full evaluation; while the sum is below the threshold the call reuses the residual of the
/// last evaluation (block-stack output − input, added to this call's own embedded tokens, so the patch embedding and
/// final layer still see the current latents and timestep). Otherwise the blocks run, the sum resets to 0 and the
/// residual is replaced. <see cref="ForceNextEvaluation"/> makes the next call run the blocks (first and last steps).
/// Holds two hidden-state-sized tensors; dispose it after the run.
/// </summary>
internal sealed class StepCache : IBlockStackCache, IDisposable
{
    private Tensor? previousInput;
    private Tensor? residual;
    private double accumulated;
    private bool force = true;
    private bool disposed;

    /// <summary>Creates the policy; the first call always evaluates.</summary>
    /// <param name="options">The threshold.</param>
    public StepCache(StepCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        Options = options;
    }

    /// <summary>The threshold.</summary>
    public StepCacheOptions Options { get; }

    /// <summary>Calls that reused the cached residual.</summary>
    public int Skipped { get; private set; }

    /// <summary>Calls that ran the blocks (and refreshed the cache).</summary>
    public int Evaluated { get; private set; }

    /// <summary>The accumulated relative change since the last full evaluation.</summary>
    public double AccumulatedChange => accumulated;

    /// <summary>Makes the next call run the blocks whatever the accumulated change.</summary>
    public void ForceNextEvaluation() => force = true;

    /// <inheritdoc />
    public Tensor? ReusableResidual(Tensor modulatedInput)
    {
        ArgumentNullException.ThrowIfNull(modulatedInput);
        ObjectDisposedException.ThrowIf(disposed, this);
        var forced = force;
        force = false;
        var reuse = false;
        if (!forced && previousInput is not null && residual is not null
            && previousInput.shape.SequenceEqual(modulatedInput.shape) && residual.shape.SequenceEqual(modulatedInput.shape))
        {
            accumulated += RelativeL1(modulatedInput, previousInput);
            reuse = accumulated < Options.Threshold; // NaN never reuses
        }
        Replace(ref previousInput, modulatedInput.detach().clone());
        if (reuse)
        {
            Skipped++;
            return residual;
        }
        accumulated = 0;
        Evaluated++;
        return null;
    }

    /// <inheritdoc />
    public void Store(Tensor input, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(disposed, this);
        Replace(ref residual, output.detach().sub(input.detach()));
    }

    /// <summary>Frees the cached tensors.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        previousInput?.Dispose();
        residual?.Dispose();
        previousInput = residual = null;
    }

    private static double RelativeL1(Tensor current, Tensor previous)
    {
        using var scope = NewDisposeScope();
        var cur = current.to_type(ScalarType.Float32);
        var prev = previous.to_type(ScalarType.Float32);
        var change = (cur - prev).abs().mean().item<float>();
        var size = prev.abs().mean().item<float>();
        return (double)change / size;
    }

    private static void Replace(ref Tensor? slot, Tensor value)
    {
        value.DetachFromDisposeScope(); // owned by the cache across calls, not by the caller's scope
        slot?.Dispose();
        slot = value;
    }
}
