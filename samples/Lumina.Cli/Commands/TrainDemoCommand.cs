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
        var output = new Option<string>("--output", "-o") { Description = "The exported model folder (diffusers layout; replaced at the end).", DefaultValueFactory = _ => Path.Combine("models", "lumina-demo") };
        var work = new Option<string?>("--work") { Description = "Tokenizer and checkpoints (results/checkpoints/<step>/); run again with the same folder to resume. Default: <output>.work." };
        var steps = new Option<int>("--steps", "-s") { Description = "Optimizer steps.", DefaultValueFactory = _ => recipe.Steps };
        var batch = new Option<int>("--batch", "-b") { Description = "Images per step.", DefaultValueFactory = _ => recipe.Training.BatchSize };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate.", DefaultValueFactory = _ => recipe.Training.LearningRate };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights and of the training noise.", DefaultValueFactory = _ => recipe.Training.Seed };
        var every = new Option<int>("--checkpoint-every") { Description = "Write a checkpoint every N steps (0 = only at the end).", DefaultValueFactory = _ => recipe.Training.CheckpointEvery };
        steps.Validators.Add(r => Positive(r, "--steps"));
        batch.Validators.Add(r => Positive(r, "--batch"));
        every.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
                r.AddError("--checkpoint-every must be 0 or more.");
        });
        lr.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v > 0 && v < 1))
                r.AddError($"--lr must be in (0, 1); got {v}.");
        });
        var command = new Command(
            "train-demo",
            "Train the demo model from scratch: a small pixel-space Next-DiT with a tiny Gemma-architecture text encoder and a " +
            "SentencePiece tokenizer built from the captions, on procedurally drawn coloured shapes. Resumable; writes a diffusers folder.")
        {
            output, work, steps, batch, lr, seed, every,
        };
        CommandRunner.SetAction(command, (r, ct) =>
        {
            var o = r.GetValue(output)!;
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

    private static void Positive(System.CommandLine.Parsing.OptionResult r, string name)
    {
        var v = r.GetValueOrDefault<int>();
        if (v < 1)
            r.AddError($"{name} must be at least 1; got {v}.");
    }

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
