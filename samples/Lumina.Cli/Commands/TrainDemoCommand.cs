using System.CommandLine;
using Lumina.Models.Autoencoders;
using Lumina.Pipelines;
using Lumina.Training;
using Lumina.Training.Shapes;
using TorchSharp;

namespace Lumina.Cli.Commands;

/// <summary>
/// <c>lumina train-demo</c>: fine-tunes a Lumina-Next model's DiT on the procedural shapes dataset (images drawn from a
/// seed, VAE-encoded to latents, captioned by the model's own text encoder) and writes upstream-layout checkpoints.
/// </summary>
internal static class TrainDemoCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m")
        {
            Description = "The Lumina-Next model to fine-tune: a folder (diffusers or original layout) or a Hub repo id.",
            Required = true,
        };
        var output = new Option<string>("--output", "-o") { Description = "Results folder; checkpoints go to <output>/checkpoints/<step>/ as upstream lays them out.", DefaultValueFactory = _ => "lumina-train-demo" };
        var steps = new Option<int>("--steps", "-s") { Description = "Optimizer steps.", DefaultValueFactory = _ => 100 };
        var batch = new Option<int>("--batch", "-b") { Description = "Images per step.", DefaultValueFactory = _ => 4 };
        var size = new Option<int>("--size") { Description = "Image size of the shapes dataset, a multiple of 16.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate.", DefaultValueFactory = _ => 1e-4 };
        var seed = new Option<long>("--seed") { Description = "Seed of the dataset and of the training noise.", DefaultValueFactory = _ => 0 };
        var every = new Option<int>("--checkpoint-every") { Description = "Also write a checkpoint every N steps (0 = only at the end).", DefaultValueFactory = _ => 0 };
        steps.Validators.Add(r => Positive(r, "--steps"));
        batch.Validators.Add(r => Positive(r, "--batch"));
        every.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
                r.AddError("--checkpoint-every must be 0 or more.");
        });
        size.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v < 16 || v % 16 != 0)
                r.AddError($"--size must be a positive multiple of 16; got {v}.");
        });
        lr.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v > 0 && v < 1))
                r.AddError($"--lr must be in (0, 1); got {v}.");
        });
        var command = new Command(
            "train-demo",
            "Fine-tune a Lumina-Next model on the procedural shapes dataset (coloured circles, squares and triangles with captions) " +
            "and write consolidated[_ema].00-of-01.safetensors with upstream's key names.")
        {
            model, output, steps, batch, size, lr, seed, every,
        };
        CommandRunner.SetAction(command, (r, ct) => RunAsync(
            r.GetValue(model)!, r.GetValue(output)!, r.GetValue(steps), r.GetValue(batch), r.GetValue(size), r.GetValue(lr), r.GetValue(seed), r.GetValue(every), ct));
        return command;
    }

    private static void Positive(System.CommandLine.Parsing.OptionResult r, string name)
    {
        var v = r.GetValueOrDefault<int>();
        if (v < 1)
            r.AddError($"{name} must be at least 1; got {v}.");
    }

    private static async Task<int> RunAsync(string model, string output, int steps, int batch, int size, double lr, long seed, int every, CancellationToken ct)
    {
        using var pipeline = await ConsoleProgress.RunStatusAsync("loading the model", () => LuminaPipeline.TextToImage().FromPretrained(model).BuildAsync(ct)).ConfigureAwait(false);
        if (pipeline.Transformer is not NextDiTTransformer { Model: var dit })
            throw new NotSupportedException($"train-demo fine-tunes Next-DiT (Lumina-Next) models; '{model}' holds a {pipeline.Transformer.GetType().Name}.");

        var options = new FlowMatchingTrainerOptions { LearningRate = lr, BatchSize = batch, Seed = seed, OutputDirectory = output, CheckpointEvery = every };
        var data = new LatentShapes(new ShapesDataset(size, seed), pipeline.Vae, seed);
        using var trainer = new FlowMatchingTrainer(new NextDiTVelocityModel(dit), pipeline.CaptionEncoder, options);
        var first = double.NaN;
        var last = await ConsoleProgress.RunStepsAsync($"training {steps} steps", bar => Task.Run(() => trainer.Train(data, steps, new ActionProgress<TrainingProgress>(p =>
        {
            if (double.IsNaN(first))
                first = p.Loss;
            if (bar is not null)
            {
                bar.Description = $"step {p.Step}/{p.TargetStep} loss {p.Loss:F4} ({p.StepsPerSecond:F2} it/s)";
                bar.Value = (double)p.Step / p.TargetStep;
            }
        }), ct), ct)).ConfigureAwait(false);

        var folder = Path.GetFullPath(TrainingCheckpoint.FolderFor(output, trainer.Step));
        Console.Error.WriteLine($"{trainer.Step} steps, loss {first:F4} at step 1, {last!.Loss:F4} at step {trainer.Step}");
        Console.WriteLine(folder);
        return ExitCodes.Success;
    }

    /// <summary>Shapes images in [−1, 1] encoded to the model's scaled latents, one seeded VAE sample per batch.</summary>
    private sealed class LatentShapes(ShapesDataset images, AutoencoderKL vae, long seed) : ITrainingData
    {
        public TrainingBatch GetBatch(long step, int batchSize)
        {
            using var pixels = images.GetBatch(step, batchSize);
            using var noGrad = torch.no_grad();
            using var generator = new torch.Generator(unchecked((ulong)(seed * 1_000_003 + step)));
            return new TrainingBatch(vae.EncodeToLatents(pixels.Data, generator), pixels.Captions);
        }
    }
}
