using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumina.Schedulers;

/// <summary>
/// The configuration of diffusers' <c>FlowMatchEulerDiscreteScheduler</c>, with the same names and defaults,
/// so a diffusers <c>scheduler_config.json</c> means the same thing here.
/// </summary>
public sealed record FlowMatchSchedulerConfig
{
    /// <summary>The diffusers class this config belongs to.</summary>
    public const string ClassName = "FlowMatchEulerDiscreteScheduler";

    /// <summary><c>num_train_timesteps</c>, default 1000.</summary>
    public int NumTrainTimesteps { get; init; } = 1000;

    /// <summary><c>shift</c>, default 1.</summary>
    public double Shift { get; init; } = 1.0;

    /// <summary><c>use_dynamic_shifting</c>: shift by resolution (pass μ to SetTimesteps). Default false.</summary>
    public bool UseDynamicShifting { get; init; }

    /// <summary><c>base_shift</c>, default 0.5.</summary>
    public double BaseShift { get; init; } = 0.5;

    /// <summary><c>max_shift</c>, default 1.15.</summary>
    public double MaxShift { get; init; } = 1.15;

    /// <summary><c>base_image_seq_len</c>, default 256.</summary>
    public int BaseImageSeqLen { get; init; } = 256;

    /// <summary><c>max_image_seq_len</c>, default 4096.</summary>
    public int MaxImageSeqLen { get; init; } = 4096;

    /// <summary><c>invert_sigmas</c>, default false.</summary>
    public bool InvertSigmas { get; init; }

    /// <summary><c>shift_terminal</c>: stretch the schedule to end at this sigma. Default none.</summary>
    public double? ShiftTerminal { get; init; }

    /// <summary><c>use_karras_sigmas</c>, default false.</summary>
    public bool UseKarrasSigmas { get; init; }

    /// <summary><c>use_exponential_sigmas</c>, default false.</summary>
    public bool UseExponentialSigmas { get; init; }

    /// <summary><c>use_beta_sigmas</c> (needs scipy's beta quantiles upstream; not supported here). Default false.</summary>
    public bool UseBetaSigmas { get; init; }

    /// <summary><c>time_shift_type</c>: "exponential" (default) or "linear".</summary>
    public string TimeShiftType { get; init; } = "exponential";

    /// <summary><c>stochastic_sampling</c>: re-noise each step instead of an Euler step. Default false.</summary>
    public bool StochasticSampling { get; init; }

    /// <summary>
    /// The static time shift s this config samples an image of <paramref name="imageSeqLen"/> tokens with: <see cref="Shift"/>,
    /// or with <see cref="UseDynamicShifting"/> the resolution-dependent one of diffusers' <c>calculate_shift</c> +
    /// <c>time_shift</c>: μ is linear in the token count between (<see cref="BaseImageSeqLen"/>, <see cref="BaseShift"/>)
    /// and (<see cref="MaxImageSeqLen"/>, <see cref="MaxShift"/>), and σ' = e^μ / (e^μ + (1/σ − 1)) ("exponential") or
    /// μ / (μ + (1/σ − 1)) ("linear"), which is the static shift sσ / (1 + (s − 1)σ) with s = e^μ, or s = μ.
    /// </summary>
    /// <param name="imageSeqLen">Image tokens: (latent height / patch) · (latent width / patch).</param>
    /// <exception cref="ArgumentException">A linear shift whose μ is not positive (the token count is far below the base).</exception>
    public double ShiftFor(int imageSeqLen)
    {
        if (!UseDynamicShifting) return Shift;
        var mu = TimeGrid.DynamicShiftMu(imageSeqLen, BaseImageSeqLen, MaxImageSeqLen, BaseShift, MaxShift);
        if (TimeShiftType == "exponential") return Math.Exp(mu);
        if (!(mu > 0))
            throw new ArgumentException($"A linear dynamic shift needs μ > 0; {imageSeqLen} image tokens give μ = {mu} (base_shift {BaseShift} at {BaseImageSeqLen} tokens, max_shift {MaxShift} at {MaxImageSeqLen}).");
        return mu;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (NumTrainTimesteps < 1) throw new ArgumentException($"num_train_timesteps must be positive, got {NumTrainTimesteps}.");
        if (!(Shift > 0) || !double.IsFinite(Shift)) throw new ArgumentException($"shift must be positive and finite, got {Shift}.");
        if ((UseKarrasSigmas ? 1 : 0) + (UseExponentialSigmas ? 1 : 0) + (UseBetaSigmas ? 1 : 0) > 1)
            throw new ArgumentException("Only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be set.");
        if (UseBetaSigmas)
            throw new NotSupportedException("use_beta_sigmas is not supported (it needs the beta distribution's quantile function); use karras or exponential sigmas.");
        if (TimeShiftType is not ("exponential" or "linear"))
            throw new ArgumentException($"time_shift_type must be 'exponential' or 'linear', got '{TimeShiftType}'.");
        if (ShiftTerminal is { } st && !(st >= 0 && st < 1))
            throw new ArgumentException($"shift_terminal must be in [0, 1), got {st}.");
    }

    /// <summary>Reads a diffusers <c>scheduler_config.json</c>. Keys starting with '_' and unknown keys are
    /// ignored, as diffusers does; a <c>_class_name</c> other than FlowMatchEulerDiscreteScheduler is an error.</summary>
    /// <param name="path">Path to the JSON file.</param>
    public static FlowMatchSchedulerConfig FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Scheduler config not found at '{path}'. A diffusers model keeps it at scheduler/scheduler_config.json.", path);
        return FromJson(File.ReadAllText(path));
    }

    /// <summary>Parses the JSON text of a diffusers scheduler config.</summary>
    /// <param name="json">The JSON object.</param>
    public static FlowMatchSchedulerConfig FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException("The scheduler config must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The scheduler config is not valid JSON: {e.Message}", e);
        }
        if (obj["_class_name"] is JsonValue cls && cls.GetValue<string>() != ClassName)
            throw new ArgumentException($"The scheduler config is for '{cls.GetValue<string>()}', not {ClassName}.");

        var c = new FlowMatchSchedulerConfig();
        T Get<T>(string key, T fallback)
        {
            var node = obj[key];
            if (node is null) return fallback;
            try
            {
                return node.GetValue<T>();
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new ArgumentException($"Scheduler config key '{key}' has value {node.ToJsonString()}, which is not a {typeof(T).Name}.", e);
            }
        }
        double? ShiftTerminal()
        {
            var node = obj["shift_terminal"];
            return node is null ? null : Get<double>("shift_terminal", 0);
        }
        var result = c with
        {
            NumTrainTimesteps = Get("num_train_timesteps", c.NumTrainTimesteps),
            Shift = Get("shift", c.Shift),
            UseDynamicShifting = Get("use_dynamic_shifting", c.UseDynamicShifting),
            BaseShift = obj["base_shift"] is null ? c.BaseShift : Get("base_shift", c.BaseShift),
            MaxShift = obj["max_shift"] is null ? c.MaxShift : Get("max_shift", c.MaxShift),
            BaseImageSeqLen = Get("base_image_seq_len", c.BaseImageSeqLen),
            MaxImageSeqLen = Get("max_image_seq_len", c.MaxImageSeqLen),
            InvertSigmas = Get("invert_sigmas", c.InvertSigmas),
            ShiftTerminal = ShiftTerminal(),
            UseKarrasSigmas = Get("use_karras_sigmas", c.UseKarrasSigmas),
            UseExponentialSigmas = Get("use_exponential_sigmas", c.UseExponentialSigmas),
            UseBetaSigmas = Get("use_beta_sigmas", c.UseBetaSigmas),
            TimeShiftType = Get("time_shift_type", c.TimeShiftType),
            StochasticSampling = Get("stochastic_sampling", c.StochasticSampling),
        };
        result.Validate();
        return result;
    }

    /// <summary>The config as a diffusers <c>scheduler_config.json</c> (every key, diffusers' names).</summary>
    public string ToJson() => new JsonObject
    {
        ["_class_name"] = ClassName,
        ["_diffusers_version"] = "0.30.0",
        ["num_train_timesteps"] = NumTrainTimesteps,
        ["shift"] = Shift,
        ["use_dynamic_shifting"] = UseDynamicShifting,
        ["base_shift"] = BaseShift,
        ["max_shift"] = MaxShift,
        ["base_image_seq_len"] = BaseImageSeqLen,
        ["max_image_seq_len"] = MaxImageSeqLen,
        ["invert_sigmas"] = InvertSigmas,
        ["shift_terminal"] = ShiftTerminal,
        ["use_karras_sigmas"] = UseKarrasSigmas,
        ["use_exponential_sigmas"] = UseExponentialSigmas,
        ["use_beta_sigmas"] = UseBetaSigmas,
        ["time_shift_type"] = TimeShiftType,
        ["stochastic_sampling"] = StochasticSampling,
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
