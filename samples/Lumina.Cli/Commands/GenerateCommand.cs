using System.CommandLine;
using Lumina.Pipelines;
using Lumina.Solvers;
using Lumina.Media;

namespace Lumina.Cli.Commands;

/// <summary><c>lumina generate PROMPT</c>: text to a PNG with a Lumina model (a local folder in either layout, a single-file checkpoint, or a Hub id).</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "What the image should show." };
        var model = new Option<string>("--model", "-m")
        {
            Description = "A model folder (diffusers or original layout), a single-file checkpoint (.safetensors, e.g. ComfyUI's Lumina-Image 2.0 file), " +
                          "or a Hub repo id (org/name[@revision]), downloaded into the shared cache. " +
                          "Default: the bundled demo model (32×32 coloured shapes, for example \"a red circle on the left on a white background\").",
            DefaultValueFactory = _ => Lumina.Models.DemoModel.Path,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Where to write the image: its extension picks the format (.png records prompt, seed and settings; also .jpg, .webp, .bmp, .gif, .tga, .tif). " +
                          "With several images: name-1.png, name-2.png, …. '-' writes one PNG to stdout. Only regular files are replaced; a symbolic link is followed.",
            DefaultValueFactory = _ => "lumina.png",
        };
        var width = NumberOption.Optional<int>("--width", "-W", "Width in pixels, a multiple of 16 (default: the model's training size, 1024 for Lumina-Next).", Side("--width"));
        var height = NumberOption.Optional<int>("--height", "-H", "Height in pixels, a multiple of 16 (default: the model's training size).", Side("--height"));
        var steps = NumberOption.Optional<int>("--steps", "-s", "Solver steps (default: the preset's, 30 for Lumina-Next).", NumberOption.AtLeast("--steps", 1));
        var solver = new Option<string?>("--solver") { Description = "ODE solver: euler, midpoint, heun2, rk4, dopri5 or dpm (DPM-Solver++) (default: midpoint for Lumina-Next and Lumina-Image 2.0)." };
        var shift = NumberOption.OptionalReal("--shift", null, "Time shift of the sampling grid (upstream 4; 1 = none).");
        var guidance = NumberOption.OptionalReal("--guidance", "-g", "Classifier-free guidance scale (upstream 4; 1 = off).");
        var seed = NumberOption.Optional<long>("--seed", null, "Noise seed; the same seed and settings give the same image (image i of --count uses seed + i). Default: random (recorded in the PNG).");
        var negative = new Option<string?>("--negative") { Description = "Negative prompt." };
        var count = NumberOption.WithDefault("--count", "-n", "How many images (seeds seed, seed+1, …).", 1, NumberOption.Between("--count", 1, 64));
        var preset = new Option<string?>("--transformer-preset") { Description = "Original-layout folders and single files: the DiT architecture (default NextDiT-2B-GQA; a Lumina-Image 2.0 single file is read from its header)." };
        var textEncoder = new Option<string?>("--text-encoder")
        {
            Description = "Original-layout folders and single files: the text encoder, a folder or Hub id (google/gemma-2b), or a diffusers folder or repo holding text_encoder/ and tokenizer/ " +
                          "(Alpha-VLLM/Lumina-Image-2.0, the default for a Lumina-Image 2.0 single file).",
        };
        var vae = new Option<string?>("--vae")
        {
            Description = "Original-layout folders and single files: the VAE, a folder or Hub id (stabilityai/sdxl-vae), a diffusers folder or repo holding vae/ " +
                          "(Alpha-VLLM/Lumina-Image-2.0), or the FLUX ae.safetensors.",
        };
        var settingsPreset = new Option<string?>("--preset") { Description = $"Named settings instead of the family's defaults: {string.Join(", ", TextToImagePresets.Names)}." };
        var systemPrompt = new Option<string?>("--system-prompt")
        {
            Description = $"Lumina-Image 2.0's system prompt, prepended to the prompt and a non-empty negative prompt: {string.Join(", ", Lumina.Models.TextEncoders.Lumina2SystemPrompt.Names)} (default: real for Lumina-Image 2.0, none otherwise).",
        };
        var lora = LoraOption.Create();
        var transformer = TransformerFileOptions.Create();
        var cacheDir = new Option<string?>("--cache-dir") { Description = "The hub cache folder for Hub ids (default: HF_HUB_CACHE, else HF_HOME/hub)." };
        var command = new Command("generate", "Generate an image from a prompt and write it as a PNG that records prompt, seed and settings.")
        {
            prompt, model, output, width, height, steps, solver, shift, guidance, seed, negative, count, preset, textEncoder, vae, settingsPreset, systemPrompt, cacheDir, lora,
            transformer.File, transformer.Mode,
        };
        CommandRunner.SetAction(command, async (r, ct) =>
        {
            var request = new TextToImageRequest(r.GetValue(prompt)!)
            {
                Width = r.GetValue(width),
                Height = r.GetValue(height),
                NumInferenceSteps = r.GetValue(steps),
                Solver = r.GetValue(solver) is { } s ? ParseSolver(s) : null,
                TimeShift = r.GetValue(shift),
                GuidanceScale = r.GetValue(guidance),
                Seed = r.GetValue(seed),
                NegativePrompt = r.GetValue(negative),
                ImagesPerPrompt = r.GetValue(count),
                SystemPrompt = r.GetValue(systemPrompt),
            };
            // Bad values fail here, before any model is loaded.
            request.Validate();
            var builder = LuminaPipeline.TextToImage().FromPretrained(r.GetValue(model)!)
                .WithComponents(textEncoder: r.GetValue(textEncoder), vae: r.GetValue(vae));
            if (r.GetValue(preset) is { } p)
                builder = builder.WithTransformerPreset(p);
            if (r.GetValue(settingsPreset) is { } named)
                builder = builder.WithPreset(ParsePreset(named));
            builder = transformer.Apply(builder, r);
            return await RunAsync(builder, request, r.GetValue(output)!, r.GetValue(cacheDir), r.GetValue(lora), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(TextToImagePipelineBuilder builder, TextToImageRequest request, string output, string? cacheDir, string[]? loras, CancellationToken ct)
    {
        // The output is checked before the model loads: a bad path fails now, not after the image is made.
        var toStdout = output == OutputFiles.StandardOutput;
        var paths = toStdout ? [] : OutputPaths(output, request.ImageCount);
        if (toStdout)
            OutputFiles.CheckStandardOutput(request.ImageCount);
        else
            OutputFiles.Check(paths, ImageFileFormats.IsSupported, string.Join(", ", ImageFileFormats.Extensions));

        // Hub ids are downloaded (only the files the layout needs) into the shared cache; the status names each file.
        using var pipeline = await ConsoleProgress.RunLoadAsync(
            progress => builder.WithModelResolver(HubModelResolver.Create(HubModelResolver.CreateDefaultClient(cacheDir), progress: progress)).BuildAsync(ct))
            .ConfigureAwait(false);
        LoraOption.Apply(pipeline, loras);
        using var result = await ConsoleProgress.RunStepsAsync("generating", async bar =>
        {
            var progress = bar is null ? null : new ActionProgress<GenerationProgress>(p =>
            {
                bar.Description = $"image {p.Item + 1}/{p.Items}: {p.StageDescription}" + (p.Stage == GenerationStage.Sampling ? $" step {p.Step}/{p.TotalSteps}" : "");
                bar.Value = p.Fraction;
            });
            return await pipeline.GenerateAsync(request, progress, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        foreach (var warning in result.Warnings)
            Console.Error.WriteLine($"warning: {warning}");

        if (toStdout)
        {
            await OutputFiles.WriteStandardOutputAsync((s, c) => result.WritePngAsync(0, s, c), ct).ConfigureAwait(false);
            Summarize(result.Metadata[0]);
            return ExitCodes.Success;
        }

        for (var i = 0; i < paths.Count; i++)
        {
            OutputFiles.CreateFolder(paths[i]);
            // Written to a temporary file and renamed: a full disk or Ctrl+C never leaves a truncated image.
            await result.SaveAsync(i, paths[i], ct).ConfigureAwait(false);
            Summarize(result.Metadata[i]);
            Console.WriteLine(Path.GetFullPath(paths[i]));
        }

        return ExitCodes.Success;
    }

    private static void Summarize(GenerationMetadata m) =>
        Console.Error.WriteLine($"{m.Width}x{m.Height}, {m.Solver} {m.Steps} steps, shift {m.TimeShift}, guidance {m.GuidanceScale}, seed {m.Seed}");

    private static OdeMethod ParseSolver(string name)
    {
        try
        {
            return OdeSolver.ParseMethod(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--solver: {CommandRunner.OneLine(e)}");
        }
    }

    private static SamplingSettings ParsePreset(string name)
    {
        try
        {
            return TextToImagePresets.ByName(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--preset: {CommandRunner.OneLine(e)}");
        }
    }

    private static Func<int, string?> Side(string name) =>
        v => v <= 0 || v % 16 != 0 ? $"{name} must be a positive multiple of 16; got {v}." : null;

    private static IReadOnlyList<string> OutputPaths(string output, int count)
    {
        if (count == 1)
            return [output];
        var stem = Path.Combine(Path.GetDirectoryName(output) ?? "", Path.GetFileNameWithoutExtension(output));
        var ext = Path.GetExtension(output) is { Length: > 0 } e ? e : ".png";
        return Enumerable.Range(1, count).Select(i => $"{stem}-{i}{ext}").ToList();
    }
}
