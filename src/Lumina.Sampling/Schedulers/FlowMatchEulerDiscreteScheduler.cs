using TorchSharp;

namespace Lumina.Schedulers;

/// <summary>
/// diffusers' <c>FlowMatchEulerDiscreteScheduler</c>: the same sigmas and timesteps for the same config, and
/// the same Euler step. σ runs from 1 (noise) to 0 (data); the model's timestep is σ·num_train_timesteps.
/// In Lumina's flow time t = 1 − σ, and the diffusers model output is the negated velocity.
/// </summary>
/// <remarks>
/// Like diffusers, the constructor's shifted σ range is used as the range of <see cref="SetTimesteps(int, double?)"/>,
/// which then shifts again; this double shift is what diffusers computes, so it is kept.
/// </remarks>
public sealed class FlowMatchEulerDiscreteScheduler
{
    private float[] _sigmas;
    private float[] _timesteps;

    /// <summary>Creates the scheduler with the full training schedule (call <see cref="SetTimesteps(int, double?)"/> to sample).</summary>
    /// <param name="config">The configuration; <see langword="null"/> for diffusers' defaults.</param>
    public FlowMatchEulerDiscreteScheduler(FlowMatchSchedulerConfig? config = null)
    {
        Config = config ?? new FlowMatchSchedulerConfig();
        Config.Validate();
        var n = Config.NumTrainTimesteps;
        var shift = (float)Config.Shift;
        var shiftMinusOne = (float)(Config.Shift - 1);
        _sigmas = new float[n];
        for (var i = 0; i < n; i++)
        {
            var sigma = (float)(n - i) / n;
            if (!Config.UseDynamicShifting) sigma = shift * sigma / (1f + shiftMinusOne * sigma);
            _sigmas[i] = sigma;
        }
        _timesteps = _sigmas.Select(s => s * n).ToArray();
        SigmaMax = _sigmas[0];
        SigmaMin = _sigmas[^1];
    }

    /// <summary>Loads the config from a diffusers <c>scheduler_config.json</c>.</summary>
    /// <param name="path">Path to the JSON file (or to a folder holding <c>scheduler_config.json</c>).</param>
    public static FlowMatchEulerDiscreteScheduler FromConfigFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) path = Path.Combine(path, "scheduler_config.json");
        return new FlowMatchEulerDiscreteScheduler(FlowMatchSchedulerConfig.FromFile(path));
    }

    /// <summary>The configuration.</summary>
    public FlowMatchSchedulerConfig Config { get; }

    /// <summary>The largest sigma of the training schedule (after the static shift).</summary>
    public double SigmaMax { get; }

    /// <summary>The smallest sigma of the training schedule (after the static shift).</summary>
    public double SigmaMin { get; }

    /// <summary>The sigmas: one per inference step plus the terminal 0 (or 1 with invert_sigmas).</summary>
    public IReadOnlyList<float> Sigmas => _sigmas;

    /// <summary>The model timesteps, one per inference step (σ·num_train_timesteps).</summary>
    public IReadOnlyList<float> Timesteps => _timesteps;

    /// <summary>Inference steps set by <see cref="SetTimesteps(int, double?)"/> (0 before).</summary>
    public int NumInferenceSteps { get; private set; }

    /// <summary>
    /// Sets the inference schedule, as diffusers' <c>set_timesteps</c>: linspace between the training σ range,
    /// then the static or dynamic shift, the terminal stretch, and karras/exponential conversion if configured.
    /// </summary>
    /// <param name="numInferenceSteps">Steps, at least 1.</param>
    /// <param name="mu">The resolution-dependent shift (required with use_dynamic_shifting); see
    /// <see cref="TimeGrid.DynamicShiftMu"/>.</param>
    public void SetTimesteps(int numInferenceSteps, double? mu = null)
    {
        if (numInferenceSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps, "Use at least one inference step.");
        var n = Config.NumTrainTimesteps;
        var start = SigmaMax * n;
        var stop = SigmaMin * n;
        var sigmas = new double[numInferenceSteps];
        var step = numInferenceSteps > 1 ? (stop - start) / (numInferenceSteps - 1) : 0;
        for (var i = 0; i < numInferenceSteps; i++) sigmas[i] = (i * step + start) / n;
        if (numInferenceSteps > 1) sigmas[^1] = stop / n;
        SetSigmas(sigmas, mu);
    }

    /// <summary>Sets a custom schedule from sigmas (diffusers' <c>set_timesteps(sigmas=...)</c>); the shift is
    /// still applied, in float32 as diffusers does on the float32 array it makes of the given sigmas.</summary>
    /// <param name="sigmas">Sigmas, one per inference step, from noise to data.</param>
    /// <param name="mu">The resolution-dependent shift, with use_dynamic_shifting.</param>
    public void SetTimesteps(IReadOnlyList<double> sigmas, double? mu = null)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        if (sigmas.Count < 1) throw new ArgumentException("Give at least one sigma.", nameof(sigmas));
        SetSigmas(sigmas.Select(s => (double)(float)s).ToArray(), mu, singlePrecision: true);
    }

    private void SetSigmas(double[] sigmas, double? mu, bool singlePrecision = false)
    {
        if (Config.UseDynamicShifting && mu is null)
            throw new ArgumentException("This scheduler uses dynamic shifting: pass mu (TimeGrid.DynamicShiftMu of the image token count).", nameof(mu));
        var count = sigmas.Length;

        if (Config.UseDynamicShifting)
        {
            var m = mu!.Value;
            for (var i = 0; i < count; i++)
                sigmas[i] = Config.TimeShiftType == "exponential"
                    ? Math.Exp(m) / (Math.Exp(m) + (1 / sigmas[i] - 1))
                    : m / (m + (1 / sigmas[i] - 1));
        }
        else
        {
            var s = Config.Shift;
            if (singlePrecision)
            {
                // numpy keeps a float32 array float32 when combined with a Python float.
                var sf = (float)s;
                var sm1 = (float)(s - 1);
                for (var i = 0; i < count; i++)
                {
                    var sigma = (float)sigmas[i];
                    sigmas[i] = sf * sigma / (1f + sm1 * sigma);
                }
            }
            else
            {
                for (var i = 0; i < count; i++) sigmas[i] = s * sigmas[i] / (1 + (s - 1) * sigmas[i]);
            }
        }

        if (Config.ShiftTerminal is { } terminal && terminal != 0)
        {
            var scale = (1 - sigmas[^1]) / (1 - terminal);
            for (var i = 0; i < count; i++) sigmas[i] = 1 - (1 - sigmas[i]) / scale;
        }

        if (Config.UseKarrasSigmas)
        {
            double lo = sigmas[^1], hi = sigmas[0];
            const double rho = 7.0;
            var minInv = Math.Pow(lo, 1 / rho);
            var maxInv = Math.Pow(hi, 1 / rho);
            for (var i = 0; i < count; i++)
            {
                var ramp = count > 1 ? (double)i / (count - 1) : 0;
                sigmas[i] = Math.Pow(maxInv + ramp * (minInv - maxInv), rho);
            }
        }
        else if (Config.UseExponentialSigmas)
        {
            double lo = Math.Log(sigmas[^1]), hi = Math.Log(sigmas[0]);
            for (var i = 0; i < count; i++)
                sigmas[i] = Math.Exp(count > 1 ? hi + i * (lo - hi) / (count - 1) : hi);
        }

        var n = Config.NumTrainTimesteps;
        var f = sigmas.Select(v => (float)v).ToArray();
        if (Config.InvertSigmas)
        {
            for (var i = 0; i < count; i++) f[i] = 1f - f[i];
        }
        _timesteps = f.Select(v => v * n).ToArray();
        _sigmas = f.Append(Config.InvertSigmas ? 1f : 0f).ToArray();
        NumInferenceSteps = count;
    }

    /// <summary>The flow times t = 1 − σ of the schedule (for the ODE solvers: the velocity is the negated
    /// diffusers model output).</summary>
    public double[] FlowTimes() => TimeGrid.FromSigmas(_sigmas);

    /// <summary>
    /// One Euler step from step <paramref name="stepIndex"/> to the next: <c>x + (σₙₑₓₜ − σ)·output</c>, in
    /// float32 like diffusers; with stochastic_sampling, re-noises the predicted clean sample instead.
    /// </summary>
    /// <param name="modelOutput">The model output (the diffusers convention: noise − data).</param>
    /// <param name="stepIndex">The index into <see cref="Timesteps"/> of the current step.</param>
    /// <param name="sample">The current latents.</param>
    /// <param name="generator">Random source for stochastic sampling (CPU).</param>
    /// <returns>The latents at the next sigma, in the model output's dtype.</returns>
    public torch.Tensor Step(torch.Tensor modelOutput, int stepIndex, torch.Tensor sample, torch.Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        if (NumInferenceSteps == 0)
            throw new InvalidOperationException("Call SetTimesteps before Step.");
        if (stepIndex < 0 || stepIndex >= NumInferenceSteps)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"The step index must be in [0, {NumInferenceSteps}).");
        if (!modelOutput.shape.SequenceEqual(sample.shape))
            throw new ArgumentException($"Model output shape [{string.Join(", ", modelOutput.shape)}] differs from the sample's [{string.Join(", ", sample.shape)}].");

        using var scope = torch.NewDisposeScope();
        var x = sample.to_type(torch.ScalarType.Float32);
        var sigma = _sigmas[stepIndex];
        var next = _sigmas[stepIndex + 1];
        torch.Tensor prev;
        if (Config.StochasticSampling)
        {
            var x0 = x - modelOutput * sigma;
            var noise = torch.randn(x.shape, dtype: torch.ScalarType.Float32, generator: generator).to(x.device);
            prev = x0 * (1f - next) + noise * next;
        }
        else
        {
            prev = x + modelOutput * (next - sigma);
        }
        return prev.to_type(modelOutput.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The forward process at step <paramref name="stepIndex"/>: <c>σ·noise + (1−σ)·sample</c>
    /// (diffusers' <c>scale_noise</c>; used to start img2img).</summary>
    /// <param name="sample">Clean latents.</param>
    /// <param name="stepIndex">Index into <see cref="Sigmas"/>.</param>
    /// <param name="noise">Gaussian noise shaped like the sample.</param>
    public torch.Tensor ScaleNoise(torch.Tensor sample, int stepIndex, torch.Tensor noise)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(noise);
        if (stepIndex < 0 || stepIndex >= _sigmas.Length)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"The step index must be in [0, {_sigmas.Length}).");
        var sigma = _sigmas[stepIndex];
        using var scope = torch.NewDisposeScope();
        return (noise * sigma + sample * (1.0 - sigma)).MoveToOuterDisposeScope();
    }
}
