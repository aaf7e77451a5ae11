using System.CommandLine;
using Lumina.Training;
using Lumina.Training.Demo;

namespace Lumina.Cli.Commands;

/// <summary>
/// <c>lumina train-demo</c>: trains the shapes demo model from scratch by its recipe (<see cref="DemoModelRecipe"/>),
/// resuming from the work folder's latest checkpoint, and exports it as a diffusers folder that
/// <c>lumina generate --model</c> and <c>FromPretrained</c> load.
/// </summary>
internal static class TrainDemoCommand
{
    public static Command Create()
    {
        var recipe = new DemoModelRecipe();
        var output = new Option<string>("--output", "-o")
        {
            Description = $"The exported model folder (diffusers layout), written at the end. Default: {DefaultOutput} in the current folder. " +
                          "An existing non-empty folder is replaced only with --force.",
            DefaultValueFactory = _ => DefaultOutput,
        };
        var force = new Option<bool>("--force") { Description = "Replace the output folder if it already holds something (for example the bundled models/lumina-demo)." };
        var work = new Option<string?>("--work") { Description = "Tokenizer and checkpoints (results/checkpoints/<step>/); run again with the same folder to resume. Default: <output>.work." };
        var steps = NumberOption.WithDefault("--steps", "-s", "Optimizer steps.", recipe.Steps, NumberOption.AtLeast("--steps", 1));
        var batch = NumberOption.WithDefault("--batch", "-b", "Images per step.", recipe.Training.BatchSize, NumberOption.AtLeast("--batch", 1));
        var lr = NumberOption.RealWithDefault("--lr", null, "AdamW learning rate.", recipe.Training.LearningRate,
            v => v > 0 && v < 1 ? null : $"--lr must be in (0, 1); got {v}.");
        var seed = NumberOption.WithDefault("--seed", null, "Seed of the initial weights and of the training noise.", recipe.Training.Seed);
        var every = NumberOption.WithDefault("--checkpoint-every", null, "Write a checkpoint every N steps (0 = only at the end).", recipe.Training.CheckpointEvery,
            NumberOption.AtLeast("--checkpoint-every", 0));
        var command = new Command(
            "train-demo",
            "Train the demo model from scratch: a small pixel-space Next-DiT with a tiny Gemma-architecture text encoder and a " +
            "SentencePiece tokenizer built from the captions, on procedurally drawn coloured shapes. Resumable; writes a diffusers folder.")
        {
            output, work, steps, batch, lr, seed, every, force,
        };
        CommandRunner.SetAction(command, (r, ct) =>
        {
            var o = r.GetValue(output)!;
            if (Directory.Exists(o) && Directory.EnumerateFileSystemEntries(o).Any() && !r.GetValue(force))
                throw new UsageException($"--output '{o}' already holds files; pass --force to replace it, or choose another folder.");
            if (File.Exists(o))
                throw new UsageException($"--output '{o}' is a file; give a folder.");
            var chosen = recipe with
            {
                Steps = r.GetValue(steps),
                Training = recipe.Training with
                {
                    BatchSize = r.GetValue(batch), LearningRate = r.GetValue(lr), Seed = r.GetValue(seed), CheckpointEvery = r.GetValue(every),
                },
            };
            return RunAsync(chosen, o, r.GetValue(work) ?? o.TrimEnd('/', '\\') + ".work", ct);
        });
        return command;
    }

    /// <summary>The default output: a new folder, never the bundled model.</summary>
    private const string DefaultOutput = "lumina-demo-trained";

    private static async Task<int> RunAsync(DemoModelRecipe recipe, string output, string work, CancellationToken ct)
    {
        var trainer = new DemoModelTrainer(recipe);
        var first = double.NaN;
        var result = await ConsoleProgress.RunStepsAsync($"training {recipe.Steps} steps", bar => Task.Run(() => trainer.Train(work, output, new ActionProgress<TrainingProgress>(p =>
        {
            if (double.IsNaN(first))
                first = p.Loss;
            if (bar is not null)
            {
                bar.Description = $"step {p.Step}/{p.TargetStep} loss {p.Loss:F4} ({p.StepsPerSecond:F2} it/s)";
                bar.Value = (double)p.Step / p.TargetStep;
            }
            else if (p.Step % 100 == 0 || p.Step == p.TargetStep)
            {
                Console.Error.WriteLine($"step {p.Step}/{p.TargetStep} loss {p.Loss:F4} ({p.StepsPerSecond:F2} it/s)");
            }
        }), ct), ct)).ConfigureAwait(false);

        Console.Error.WriteLine(result.StepsThisRun == 0
            ? $"already trained to step {result.Step}; exported again"
            : $"{result.StepsThisRun} steps in {result.Seconds:F0} s (step {result.Step}), loss {first:F4} at the first step, {result.LastLoss:F4} at the last");
        Console.WriteLine(result.ModelFolder);
        return ExitCodes.Success;
    }
}
