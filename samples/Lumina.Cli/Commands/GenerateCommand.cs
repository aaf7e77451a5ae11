using System.CommandLine;
using Lumina.Pipelines;
using Lumina.Solvers;
using Spectre.Console;

namespace Lumina.Cli.Commands;

/// <summary><c>lumina generate PROMPT</c>: text to a PNG with a Lumina-Next model (a local folder in either layout, or a Hub id).</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "What the image should show." };
        var model = new Option<string>("--model", "-m")
        {
            Description = "A model folder (diffusers or original layout) or a Hub repo id (org/name[@revision]), downloaded into the shared cache. " +
                          "Default: the bundled demo model (32×32 coloured shapes, for example \"a red circle on the left on a white background\").",
            DefaultValueFactory = _ => DemoModel.Folder,
        };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the PNG (with several images: name-1.png, name-2.png, …).", DefaultValueFactory = _ => "lumina.png" };
        var width = new Option<int?>("--width", "-W") { Description = "Width in pixels, a multiple of 16 (default: the model's training size, 1024 for Lumina-Next)." };
        var height = new Option<int?>("--height", "-H") { Description = "Height in pixels, a multiple of 16 (default: the model's training size)." };
        var steps = new Option<int?>("--steps", "-s") { Description = "Solver steps (default: the preset's, 30 for Lumina-Next)." };
        var solver = new Option<string?>("--solver") { Description = "ODE solver: euler, midpoint, heun2, rk4 or dopri5 (default: midpoint for Lumina-Next)." };
        var shift = new Option<double?>("--shift") { Description = "Time shift of the sampling grid (upstream 4; 1 = none)." };
        var guidance = new Option<double?>("--guidance", "-g") { Description = "Classifier-free guidance scale (upstream 4; 1 = off)." };
        var seed = new Option<long?>("--seed") { Description = "Noise seed; the same seed and settings give the same image. Default: random (recorded in the PNG)." };
        var negative = new Option<string?>("--negative") { Description = "Negative prompt." };
        var count = new Option<int>("--count", "-n") { Description = "How many images (seeds seed, seed+1, …).", DefaultValueFactory = _ => 1 };
        var preset = new Option<string?>("--transformer-preset") { Description = "Original-layout folders only: the DiT architecture (default NextDiT-2B-GQA)." };
        var textEncoder = new Option<string?>("--text-encoder") { Description = "Original-layout folders only: the Gemma text encoder folder (for example a google/gemma-2b snapshot)." };
        var vae = new Option<string?>("--vae") { Description = "Original-layout folders only: the VAE folder (for example a stabilityai/sdxl-vae snapshot)." };
        var lora = LoraOption.Create();
        var cacheDir = new Option<string?>("--cache-dir") { Description = "The hub cache folder for Hub ids (default: HF_HUB_CACHE, else HF_HOME/hub)." };
        foreach (var side in new[] { width, height })
        {
            side.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int?>() is int v && (v <= 0 || v % 16 != 0))
                    r.AddError($"{r.Option.Name} must be a positive multiple of 16; got {v}.");
            });
        }

        steps.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is <= 0 and var v)
                r.AddError($"--steps must be at least 1; got {v}.");
        });
        count.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v is < 1 or > 64)
                r.AddError($"--count must be between 1 and 64; got {v}.");
        });
        var command = new Command("generate", "Generate an image from a prompt and write it as a PNG that records prompt, seed and settings.")
        {
            prompt, model, output, width, height, steps, solver, shift, guidance, seed, negative, count, preset, textEncoder, vae, cacheDir, lora,
        };
        CommandRunner.SetAction(command, async (r, ct) =>
        {
            var request = new TextToImageRequest(r.GetValue(prompt)!)
            {
                Width = r.GetValue(width),
                Height = r.GetValue(height),
                NumInferenceSteps = r.GetValue(steps),
                Solver = r.GetValue(solver) is { } s ? OdeSolver.ParseMethod(s) : null,
                TimeShift = r.GetValue(shift),
                GuidanceScale = r.GetValue(guidance),
                Seed = r.GetValue(seed),
                NegativePrompt = r.GetValue(negative),
                ImagesPerPrompt = r.GetValue(count),
            };
            // Bad values fail here, before any model is loaded.
            request.Validate();
            var builder = LuminaPipeline.TextToImage().FromPretrained(r.GetValue(model)!)
                .WithComponents(textEncoder: r.GetValue(textEncoder), vae: r.GetValue(vae));
            if (r.GetValue(cacheDir) is { } cache)
                builder = builder.WithCacheFolder(cache);
            if (r.GetValue(preset) is { } p)
                builder = builder.WithTransformerPreset(p);
            return await RunAsync(builder, request, r.GetValue(output)!, r.GetValue(lora), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(TextToImagePipelineBuilder builder, TextToImageRequest request, string output, string[]? loras, CancellationToken ct)
    {
        // Hub ids are downloaded (only the files the layout needs) into the shared cache while this status shows.
        using var pipeline = await ConsoleProgress.RunStatusAsync("loading the model", () => builder.BuildAsync(ct)).ConfigureAwait(false);
        LoraOption.Apply(pipeline, loras);
        using var result = await ConsoleProgress.RunStepsAsync("generating", async bar =>
        {
            var progress = bar is null ? null : new ActionProgress<GenerationProgress>(p =>
            {
                bar.Description = $"image {p.Item + 1}/{p.Items} {p.Stage.ToString().ToLowerInvariant()} {p.Step}/{p.TotalSteps}";
                bar.Value = p.Fraction;
            });
            return await pipeline.GenerateAsync(request, progress, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);

        var paths = OutputPaths(output, result.Images.Count);
        for (var i = 0; i < paths.Count; i++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(paths[i]))!);
            // Written to a temporary file and renamed: a full disk or Ctrl+C never leaves a truncated PNG.
            await result.SavePngAsync(i, paths[i], ct).ConfigureAwait(false);
            var m = result.Metadata[i];
            Console.Error.WriteLine($"{m.Width}x{m.Height}, {m.Solver} {m.Steps} steps, shift {m.TimeShift}, guidance {m.GuidanceScale}, seed {m.Seed}");
            Console.WriteLine(Path.GetFullPath(paths[i]));
        }

        return ExitCodes.Success;
    }

    private static IReadOnlyList<string> OutputPaths(string output, int count)
    {
        if (count == 1)
            return [output];
        var stem = Path.Combine(Path.GetDirectoryName(output) ?? "", Path.GetFileNameWithoutExtension(output));
        var ext = Path.GetExtension(output) is { Length: > 0 } e ? e : ".png";
        return Enumerable.Range(1, count).Select(i => $"{stem}-{i}{ext}").ToList();
    }
}
