using System.CommandLine;
using Lumina.Pipelines;
using Lumina.Audio;

namespace Lumina.Cli.Commands;

/// <summary><c>lumina music PROMPT</c>: text to a WAV with a Lumina-T2Music model (music DiT, 1-D mel VAE, BigVGAN).</summary>
internal static class MusicCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "What the clip should sound like." };
        var model = new Option<string>("--model", "-m")
        {
            Description = "A Lumina-T2Music model folder or Hub repo id (org/name[@revision]).",
            Required = true,
        };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the WAV (16-bit PCM, mono).", DefaultValueFactory = _ => "lumina.wav" };
        var duration = new Option<double>("--duration", "-d") { Description = "Clip length in seconds (upstream 8.192).", DefaultValueFactory = _ => 8.192 };
        var steps = new Option<int?>("--steps", "-s") { Description = "Solver steps (default: the model's, upstream 24)." };
        var guidance = new Option<double?>("--guidance", "-g") { Description = "Classifier-free guidance scale (1 = off)." };
        var seed = new Option<long?>("--seed") { Description = "Noise seed; the same seed and settings give the same clip. Default: random (printed)." };
        var negative = new Option<string>("--negative") { Description = "Negative prompt.", DefaultValueFactory = _ => "" };
        duration.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v > 0 && v <= 600))
                r.AddError($"--duration must be between 0 and 600 seconds; got {v}.");
        });
        steps.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is <= 0 and var v)
                r.AddError($"--steps must be at least 1; got {v}.");
        });
        var command = new Command("music", "Generate music (or audio) from a prompt and write it as a WAV.")
        {
            prompt, model, output, duration, steps, guidance, seed, negative,
        };
        CommandRunner.SetAction(command, async (r, ct) =>
        {
            var request = new TextToAudioRequest(r.GetValue(prompt)!)
            {
                DurationSeconds = r.GetValue(duration),
                NumInferenceSteps = r.GetValue(steps),
                GuidanceScale = r.GetValue(guidance),
                Seed = r.GetValue(seed),
                NegativePrompt = r.GetValue(negative)!,
            };
            request.Validate();
            var builder = LuminaPipeline.TextToAudio().FromPretrained(r.GetValue(model)!);
            using var pipeline = await ConsoleProgress.RunStatusAsync("loading the model", () => builder.BuildAsync(ct)).ConfigureAwait(false);
            if (request.DurationSeconds > pipeline.MaxDurationSeconds)
                throw new UsageException($"--duration {request.DurationSeconds} s is longer than this model's {pipeline.MaxDurationSeconds:0.###} s.");
            var result = await ConsoleProgress.RunStepsAsync("generating", bar => pipeline.GenerateAsync(request, bar is null ? null : new ActionProgress<GenerationProgress>(p =>
            {
                bar.Description = $"{p.Stage.ToString().ToLowerInvariant()} {p.Step}/{p.TotalSteps}";
                bar.Value = p.Fraction;
            }), ct)).ConfigureAwait(false);
            var path = r.GetValue(output)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await result.SaveWavAsync(0, path, ct).ConfigureAwait(false);
            Console.Error.WriteLine($"{result.Waveforms[0].Length / (double)result.SampleRate:0.###} s at {result.SampleRate} Hz, seed {result.Seeds[0]}");
            Console.WriteLine(Path.GetFullPath(path));
            return ExitCodes.Success;
        });
        return command;
    }
}
