using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumina.Training;

/// <summary>
/// The files of a training checkpoint folder. Weights follow upstream (<c>checkpoints/{step:D7}/</c> holding
/// <c>consolidated.00-of-01</c> and <c>consolidated_ema.00-of-01</c> with upstream key names, and
/// <c>resume_step.txt</c>), in safetensors rather than pickles. The optimizer state is our own safetensors file
/// (<c>{parameter}.exp_avg</c>, <c>{parameter}.exp_avg_sq</c>) and <c>trainer_state.json</c> holds the step count and
/// settings. LoRA runs write <c>lora.safetensors</c> / <c>lora_ema.safetensors</c> instead of the full weights.
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>Model weights, upstream name.</summary>
    public const string ModelFile = "consolidated.00-of-01.safetensors";

    /// <summary>EMA weights, upstream name.</summary>
    public const string EmaFile = "consolidated_ema.00-of-01.safetensors";

    /// <summary>LoRA adapters (LoRA runs).</summary>
    public const string LoraFile = "lora.safetensors";

    /// <summary>EMA of the LoRA adapters (LoRA runs).</summary>
    public const string LoraEmaFile = "lora_ema.safetensors";

    /// <summary>AdamW moments (upstream's name, safetensors instead of a pickle).</summary>
    public const string OptimizerFile = "optimizer.00000-of-00001.safetensors";

    /// <summary>Steps completed, as upstream writes it.</summary>
    public const string ResumeStepFile = "resume_step.txt";

    /// <summary>Step count, mode and settings.</summary>
    public const string StateFile = "trainer_state.json";

    /// <summary>Format tag in <see cref="StateFile"/>.</summary>
    public const string Format = "lumina-training/1";

    /// <summary>The folder upstream uses for a step: <c>{results}/checkpoints/{step:D7}</c>.</summary>
    public static string FolderFor(string resultsDirectory, long step)
        => Path.Combine(resultsDirectory, "checkpoints", step.ToString("D7", CultureInfo.InvariantCulture));

    /// <summary>The newest checkpoint folder under <c>{results}/checkpoints</c> that has a state file, or null.</summary>
    public static string? Latest(string resultsDirectory)
    {
        var root = Path.Combine(resultsDirectory, "checkpoints");
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, StateFile)))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .LastOrDefault();
    }

    internal static void WriteState(string folder, long step, bool lora, FlowMatchingTrainerOptions options)
    {
        var json = new JsonObject
        {
            ["format"] = Format,
            ["step"] = step,
            ["mode"] = lora ? "lora" : "full",
            ["seed"] = options.Seed,
            ["batch_size"] = options.BatchSize,
            ["learning_rate"] = options.LearningRate,
            ["weight_decay"] = options.WeightDecay,
            ["grad_clip"] = options.GradClip,
            ["ema_decay"] = options.EmaDecay,
            ["caption_dropout"] = options.CaptionDropout,
            ["timestep_sampling"] = options.TimestepSampling.ToString(),
        };
        File.WriteAllText(Path.Combine(folder, StateFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(folder, ResumeStepFile), step.ToString(CultureInfo.InvariantCulture) + "\n");
    }

    internal static (long Step, string Mode) ReadState(string folder)
    {
        var path = Path.Combine(folder, StateFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{folder}' is not a training checkpoint: {StateFile} is missing.", path);
        var node = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                   ?? throw new InvalidDataException($"'{path}' is not a JSON object.");
        if ((string?)node["format"] != Format)
            throw new InvalidDataException($"'{path}' has format '{node["format"]}', expected '{Format}'.");
        var step = (long?)node["step"] ?? throw new InvalidDataException($"'{path}' has no step.");
        if (step < 0) throw new InvalidDataException($"'{path}' has a negative step ({step}).");
        var mode = (string?)node["mode"] ?? throw new InvalidDataException($"'{path}' has no mode.");
        return (step, mode);
    }
}
