using System.CommandLine;
using Lumina.Pipelines;
using Lumina.Audio;
using Lumina.Cli.Inspection;

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
        var output = new Option<string>("--output", "-o") { Description = "Where to write the WAV (16-bit PCM, mono); '-' writes it to stdout. Only regular files are replaced; a symbolic link is followed.", DefaultValueFactory = _ => "lumina.wav" };
        var duration = NumberOption.RealWithDefault("--duration", "-d", "Clip length in seconds (upstream 8.192).", 8.192,
            v => v > 0 && v <= 600 ? null : $"--duration must be more than 0 and at most 600 seconds; got {v}.");
        var steps = NumberOption.Optional<int>("--steps", "-s", "Solver steps (default: the model's, upstream 24).", NumberOption.AtLeast("--steps", 1));
        var guidance = NumberOption.OptionalReal("--guidance", "-g", "Classifier-free guidance scale (1 = off).");
        var seed = NumberOption.Optional<long>("--seed", null, "Noise seed; the same seed and settings give the same clip. Default: random (printed).");
        var negative = new Option<string>("--negative") { Description = "Negative prompt.", DefaultValueFactory = _ => "" };
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
            var path = r.GetValue(output)!;
            var toStdout = path == OutputFiles.StandardOutput;
            if (toStdout)
                OutputFiles.CheckStandardOutput(1);
            else
                OutputFiles.Check([path], p => Path.GetExtension(p).Equals(".wav", StringComparison.OrdinalIgnoreCase), ".wav");
            var reference = r.GetValue(model)!;
            ModelKindCheck.RequireMusicModel(reference);
            var builder = LuminaPipeline.TextToAudio().FromPretrained(reference);
            using var pipeline = await ConsoleProgress.RunLoadAsync(
                progress => builder.WithModelResolver(HubModelResolver.Create(HubModelResolver.CreateDefaultClient(), progress: progress)).BuildAsync(ct)).ConfigureAwait(false);
            if (request.DurationSeconds > pipeline.MaxDurationSeconds)
                throw new UsageException($"--duration {request.DurationSeconds} s is longer than this model's {pipeline.MaxDurationSeconds:0.###} s.");
            var result = await ConsoleProgress.RunStepsAsync("generating", bar => pipeline.GenerateAsync(request, bar is null ? null : new ActionProgress<GenerationProgress>(p =>
            {
                bar.Description = p.Stage == GenerationStage.Sampling ? $"sampling step {p.Step}/{p.TotalSteps}" : p.StageDescription;
                bar.Value = p.Fraction;
            }), ct)).ConfigureAwait(false);
            if (toStdout)
            {
                await OutputFiles.WriteStandardOutputAsync((s, c) => s.WriteAsync(result.ToWav(0), c).AsTask(), ct).ConfigureAwait(false);
            }
            else
            {
                OutputFiles.CreateFolder(path);
                await result.SaveWavAsync(0, path, ct).ConfigureAwait(false);
            }

            Console.Error.WriteLine($"{result.Waveforms[0].Length / (double)result.SampleRate:0.###} s at {result.SampleRate} Hz, seed {result.Seeds[0]}");
            if (!toStdout)
                Console.WriteLine(Path.GetFullPath(path));
            return ExitCodes.Success;
        });
        return command;
    }
}
