using System.Globalization;
using System.Text.Json.Nodes;
using Lumina.Checkpoints;
using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Pipelines;
using Lumina.Schedulers;
using Lumina.Tensors;
using Lumina.Testing;
using Lumina.Training;
using Lumina.Training.Demo;
using Lumina.Training.Shapes;
using Lumina.Training.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// Shared plumbing of the generation benches: the <c>--model</c> folder (default <c>models/lumina-demo</c> under the
/// repository root; <c>tiny</c> writes a tiny random Lumina-Next folder to a temp directory, for smoke runs), loading it
/// through the public <c>FromPretrained</c> path, and simple argument parsing. <c>random-demo</c> writes the demo model's
/// exact architecture and layout (pixel space, <see cref="DemoModelRecipe"/>) with untrained weights: its timings and
/// memory are the demo model's, its images are noise.
/// </summary>
internal static class BenchModel
{
    public const string DefaultModel = "models/lumina-demo";

    /// <summary>The model folder named by <c>--model</c> (a path, or <c>tiny</c>).</summary>
    public static string Folder(string[] args)
    {
        var model = Arg(args, "--model") ?? DefaultModel;
        if (model == "tiny")
        {
            var temp = Path.Combine(Path.GetTempPath(), $"lumina-bench-tiny-{Environment.ProcessId}");
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { Directory.Delete(temp, recursive: true); }
                catch (IOException) { }
            };
            return WriteTinyRandom(temp);
        }
        if (model == "random-demo")
        {
            var temp = Path.Combine(Path.GetTempPath(), $"lumina-bench-random-demo-{Environment.ProcessId}");
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { Directory.Delete(temp, recursive: true); }
                catch (IOException) { }
            };
            return WriteRandomDemo(temp);
        }
        if (Directory.Exists(Path.Combine(model, "results")) && Directory.Exists(Path.Combine(model, "tokenizer")))
        {
            var temp = Path.Combine(Path.GetTempPath(), $"lumina-bench-checkpoint-{Environment.ProcessId}");
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { Directory.Delete(temp, recursive: true); }
                catch (IOException) { }
            };
            return ExportLatestCheckpoint(model, temp);
        }
        if (Directory.Exists(model)) return Path.GetFullPath(model);
        var fromRoot = Path.Combine(RepositoryRoot(), model);
        if (Directory.Exists(fromRoot)) return fromRoot;
        throw new DirectoryNotFoundException($"No model folder '{model}' (also tried '{fromRoot}'); pass --model <folder> or --model tiny.");
    }

    /// <summary>Loads the pipeline through the same fluent path users take.</summary>
    public static TextToImagePipeline Load(string folder)
        => LuminaPipeline.TextToImage().FromPretrained(folder).BuildAsync().GetAwaiter().GetResult();

    /// <summary>Sets torch threads from <c>--threads</c> (default: min(2, cores)) and prints the environment that matters.</summary>
    public static void SetThreads(string[] args)
    {
        torch.set_num_threads(IntArg(args, "--threads", Math.Min(2, Environment.ProcessorCount)));
        Console.WriteLine($"torch threads {torch.get_num_threads()}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(default)"}, load average {LoadAverage()}");
    }

    /// <summary>A request at the pipeline's default settings (size overridable with <c>--size</c>).</summary>
    public static TextToImageRequest Request(string[] args, string prompt, long seed)
    {
        var request = new TextToImageRequest(prompt) { Seed = seed };
        if (IntArg(args, "--size", 0) is > 0 and var size) request = request with { Width = size, Height = size };
        if (IntArg(args, "--steps", 0) is > 0 and var steps) request = request with { NumInferenceSteps = steps };
        return request;
    }

    /// <summary>Held-out captions (<c>new ShapesDataset(32, seed: 1)</c>), the stream the demo model is evaluated on.</summary>
    public static IReadOnlyList<ShapeScene> HeldOut(int count)
    {
        var data = new ShapesDataset(32, seed: 1);
        return Enumerable.Range(0, count).Select(i => data.Scene(i)).ToList();
    }

    /// <summary>An ImageSharp image as the analyser's <see cref="RgbImage"/>.</summary>
    public static RgbImage ToRgb(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return new RgbImage(image.Width, image.Height, bytes);
    }

    public static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public static int IntArg(string[] args, string name, int fallback)
        => Arg(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lumina.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>
    /// Writes a tiny random Lumina-Next folder in the diffusers layout (the test fixture's components:
    /// <see cref="TinyLuminaNextFolders"/>, through its one diffusers writer), for checking the benches run; its
    /// figures mean nothing.
    /// </summary>
    public static string WriteTinyRandom(string folder)
    {
        if (File.Exists(Path.Combine(folder, "model_index.json"))) return folder;
        using var generator = new Generator(20261126);
        using var dit = TinyLuminaNextFolders.Randomize(new NextDiT(TinyLuminaNextFolders.DiT), generator, 0.3);
        using var gemma = TinyLuminaNextFolders.Randomize(new DecoderTextModel(TinyLuminaNextFolders.Gemma), generator, 0.3);
        using var vae = TinyLuminaNextFolders.Randomize(new AutoencoderKL(TinyLuminaNextFolders.Vae), generator, 0.2);
        TinyLuminaNextFolders.WriteDiffusersFolder(folder, dit, gemma, vae, TinyLuminaNextFolders.DiT);
        Console.WriteLine($"wrote a tiny random model to {folder} (its figures mean nothing)");
        return folder;
    }

    /// <summary>The demo model's recipe (architecture, tokenizer, text encoder) with an untrained transformer, exported as the demo is.</summary>
    public static string WriteRandomDemo(string folder)
    {
        var trainer = new DemoModelTrainer();
        var work = folder + ".work";
        var tokenizerFolder = trainer.EnsureTokenizer(work);
        var vocabulary = Lumina.Tokenizers.SentencePieceTextTokenizer.FromFolder(tokenizerFolder).VocabularySize;
        using var gemma = trainer.CreateTextEncoder(vocabulary);
        using var dit = new NextDiT(trainer.Recipe.Transformer);
        DiTInitializer.Initialize(dit, seed: 0);
        DemoModelExporter.Write(folder, dit, gemma, tokenizerFolder, trainer.Recipe.ImageSize);
        Directory.Delete(work, recursive: true);
        Console.WriteLine($"wrote the demo architecture with untrained weights to {folder} (timings are the demo model's; images are noise)");
        return folder;
    }

    /// <summary>
    /// A train-demo work folder (tokenizer/ and results/checkpoints): exports its latest EMA checkpoint the way the
    /// trainer exports the final model, so an intermediate checkpoint can be benchmarked.
    /// </summary>
    public static string ExportLatestCheckpoint(string workFolder, string folder)
    {
        var trainer = new DemoModelTrainer();
        var checkpoint = TrainingCheckpoint.Latest(Path.Combine(workFolder, "results"))
            ?? throw new DirectoryNotFoundException($"'{workFolder}/results' holds no checkpoint yet.");
        var tokenizerFolder = Path.Combine(workFolder, "tokenizer");
        var vocabulary = Lumina.Tokenizers.SentencePieceTextTokenizer.FromFolder(tokenizerFolder).VocabularySize;
        using var gemma = trainer.CreateTextEncoder(vocabulary);
        using var ema = new NextDiT(trainer.Recipe.Transformer);
        ema.LoadSafetensors(Path.Combine(checkpoint, TrainingCheckpoint.EmaFile));
        DemoModelExporter.Write(folder, ema, gemma, tokenizerFolder, trainer.Recipe.ImageSize);
        Console.WriteLine($"exported the EMA weights of {checkpoint} to {folder}");
        return folder;
    }
}
