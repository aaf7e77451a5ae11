using System.Diagnostics;
using System.Globalization;
using Lumina.Pipelines;
using Lumina.Solvers;
using Lumina.Training.Shapes;
using SixLabors.ImageSharp;

namespace Lumina.Benchmarks;

/// <summary>
/// The demo model's prompt-adherence score, measured the way users run it: the folder loaded with FromPretrained, one
/// image per held-out caption (<c>new ShapesDataset(32, seed: 1)</c>, caption i with seed i) at the model's default
/// settings unless overridden, scored by <see cref="PromptAdherenceAnalyser"/>.
/// Args: [--model folder=models/lumina-demo] [--captions N=200] [--steps N] [--solver name] [--shift s] [--guidance g] [--save folder].
/// </summary>
public sealed class DemoAdherenceBench : IBenchCommand
{
    public string Name => "demo-adherence";

    public string Description => "Prompt adherence of the demo model over held-out captions through the pipeline (args: --model DIR --captions N --save DIR)";

    public int Run(string[] args)
    {
        var model = Path.GetFullPath(Arg(args, "--model") ?? Path.Combine("models", "lumina-demo"));
        var count = int.Parse(Arg(args, "--captions") ?? "200", CultureInfo.InvariantCulture);
        var save = Arg(args, "--save");
        var clock = Stopwatch.StartNew();
        using var pipe = LuminaPipeline.TextToImage().FromPretrained(model).BuildAsync().GetAwaiter().GetResult();
        var loadSeconds = clock.Elapsed.TotalSeconds;
        var heldOut = new ShapesDataset(32, seed: 1);
        var scenes = Enumerable.Range(0, count).Select(i => heldOut.Scene(i)).ToList();
        if (save is not null) Directory.CreateDirectory(save);

        clock.Restart();
        var summary = ShapeAdherenceEvaluator.Evaluate((scene, i) =>
        {
            var request = new TextToImageRequest(scene.Caption)
            {
                Seed = i,
                NumInferenceSteps = Arg(args, "--steps") is { } st ? int.Parse(st, CultureInfo.InvariantCulture) : null,
                Solver = Arg(args, "--solver") is { } so ? OdeSolver.ParseMethod(so) : null,
                TimeShift = Arg(args, "--shift") is { } sh ? double.Parse(sh, CultureInfo.InvariantCulture) : null,
                GuidanceScale = Arg(args, "--guidance") is { } g ? double.Parse(g, CultureInfo.InvariantCulture) : null,
            };
            using var result = pipe.GenerateAsync(request).GetAwaiter().GetResult();
            var image = RgbImage.FromImage(result.Images[0]);
            if (save is not null)
            {
                var got = PromptAdherenceAnalyser.Analyse(image);
                var name = $"{i:D3}-{scene.Color.Name}-{scene.Shape}-{scene.Position}-as-{got.Color?.Name}-{got.Shape}-{got.Position}.png".ToLowerInvariant();
                result.Images[0].SaveAsPng(Path.Combine(save, name));
            }
            return image;
        }, scenes);
        var seconds = clock.Elapsed.TotalSeconds;
        var s = pipe.Settings;
        Console.WriteLine($"demo-adherence: {model}, loaded in {loadSeconds:F2} s, defaults {s.Width}x{s.Height} {s.Solver} {s.NumInferenceSteps} steps shift {s.TimeShift} cfg {s.GuidanceScale}");
        Console.WriteLine($"held-out adherence: {summary}  [{seconds / count:F3} s/image, {Environment.ProcessorCount} cores, torch threads {TorchSharp.torch.get_num_threads()}]");
        return 0;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
