using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>
/// AdamW with decoupled weight decay, computed like PyTorch's single-tensor <c>torch.optim.AdamW</c>
/// (p ← p·(1 − lr·wd); m ← lerp(m, g, 1 − β1); v ← β2·v + (1 − β2)·g²; p ← p − lr/(1 − β1^k) · m / (√v/√(1 − β2^k) + ε)).
/// Written out so its state (<c>exp_avg</c>, <c>exp_avg_sq</c> per parameter and the step count) can be saved to
/// safetensors and restored exactly for resume.
/// </summary>
internal sealed class AdamWOptimizer : IDisposable
{
    private readonly (string Name, Parameter Param)[] _params;
    private readonly Tensor[] _expAvg;
    private readonly Tensor[] _expAvgSq;

    /// <summary>Creates the optimizer over named parameters (names key the saved state).</summary>
    public AdamWOptimizer(IEnumerable<(string Name, Parameter Param)> parameters, double learningRate = 1e-4, double weightDecay = 0.0,
        double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(learningRate > 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be positive.");
        if (weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be ≥ 0.");
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β1 must be in [0, 1).");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β2 must be in [0, 1).");
        _params = parameters.ToArray();
        if (_params.Length == 0) throw new ArgumentException("There is nothing to optimise: no parameters were given.", nameof(parameters));
        var dup = _params.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Parameter name '{dup.Key}' appears twice.", nameof(parameters));
        (LearningRate, WeightDecay, Beta1, Beta2, Eps) = (learningRate, weightDecay, beta1, beta2, eps);
        _expAvg = _params.Select(p => zeros_like(p.Param).detach()).ToArray();
        _expAvgSq = _params.Select(p => zeros_like(p.Param).detach()).ToArray();
    }

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; }

    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>First-moment decay β1.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay β2.</summary>
    public double Beta2 { get; }

    /// <summary>Denominator epsilon.</summary>
    public double Eps { get; }

    /// <summary>Number of updates applied so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>The optimised parameters with their names.</summary>
    public IReadOnlyList<(string Name, Parameter Param)> Parameters => _params;

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in _params)
        {
            var g = p.grad;
            if (g is not null) { g.Dispose(); p.grad = null; }
        }
    }

    /// <summary>
    /// The global L2 norm of all gradients; when it exceeds <paramref name="maxNorm"/>, every gradient is scaled by
    /// maxNorm / norm (upstream <c>--grad_clip</c>, default 2.0). Returns the norm before clipping.
    /// </summary>
    public double ClipGradNorm(double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The clip norm must be positive.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sq = 0.0;
        foreach (var (_, p) in _params)
        {
            var g = p.grad;
            if (g is null) continue;
            sq += g.to_type(ScalarType.Float64).square().sum().item<double>();
        }
        var norm = Math.Sqrt(sq);
        if (norm > maxNorm)
        {
            var factor = maxNorm / norm;
            foreach (var (_, p) in _params) p.grad?.mul_(factor);
        }
        return norm;
    }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        StepCount++;
        var bc1 = 1 - Math.Pow(Beta1, StepCount);
        var bc2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, StepCount));
        var stepSize = LearningRate / bc1;
        using var noGrad = no_grad();
        for (var i = 0; i < _params.Length; i++)
        {
            using var scope = NewDisposeScope();
            var p = _params[i].Param;
            var g = p.grad;
            if (g is null) continue;
            if (WeightDecay != 0) p.mul_(1 - LearningRate * WeightDecay);
            _expAvg[i].lerp_(g, 1 - Beta1);
            _expAvgSq[i].mul_(Beta2).addcmul_(g, g, 1 - Beta2);
            var denom = (_expAvgSq[i].sqrt() / bc2Sqrt).add_(Eps);
            p.addcdiv_(_expAvg[i], denom, -stepSize);
        }
    }

    /// <summary>The state as named tensors: <c>{name}.exp_avg</c> and <c>{name}.exp_avg_sq</c> (views; copy before mutating).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors()
    {
        for (var i = 0; i < _params.Length; i++)
        {
            yield return new($"{_params[i].Name}.exp_avg", _expAvg[i]);
            yield return new($"{_params[i].Name}.exp_avg_sq", _expAvgSq[i]);
        }
    }

    /// <summary>Restores the state written by <see cref="StateTensors"/>; every parameter must be present with its shape.</summary>
    /// <param name="read">Reads a named tensor, or returns null when the name is absent.</param>
    /// <param name="stepCount">The update count to continue from.</param>
    public void LoadState(Func<string, Tensor?> read, long stepCount)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        using var noGrad = no_grad();
        for (var i = 0; i < _params.Length; i++)
        {
            foreach (var (suffix, dest) in new[] { (".exp_avg", _expAvg[i]), (".exp_avg_sq", _expAvgSq[i]) })
            {
                var key = _params[i].Name + suffix;
                using var src = read(key) ?? throw new InvalidDataException($"The optimizer state has no '{key}'; it was written for other parameters.");
                if (!src.shape.SequenceEqual(dest.shape))
                    throw new InvalidDataException($"Optimizer state '{key}' is [{string.Join(", ", src.shape)}] but the parameter is [{string.Join(", ", dest.shape)}].");
                dest.copy_(src);
            }
        }
        StepCount = stepCount;
    }

    /// <summary>Releases the moment tensors.</summary>
    public void Dispose()
    {
        foreach (var t in _expAvg) t.Dispose();
        foreach (var t in _expAvgSq) t.Dispose();
    }
}
