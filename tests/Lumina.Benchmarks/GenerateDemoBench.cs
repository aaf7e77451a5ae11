using System.Diagnostics;

namespace Lumina.Benchmarks;

/// <summary>
/// A whole generation with the demo model through the public API: load time (<c>FromPretrained(folder).BuildAsync()</c>)
/// and wall time per image at the model's default settings (prompt encoding, sampling and decoding), first image apart.
/// </summary>
public sealed class GenerateDemoBench : IBenchCommand
{
    public string Name => "generate-demo";

    public string Description => "Load time and seconds per image at the model's defaults (args: [--model models/lumina-demo|random-demo|tiny] [--images 5] [--size S] [--steps N] [--threads T])";

    public int Run(string[] args)
    {
        BenchModel.SetThreads(args);
        var folder = BenchModel.Folder(args);
        var count = BenchModel.IntArg(args, "--images", 5);
        var rssStart = ProcessMemory.Resident();
        var clock = Stopwatch.StartNew();
        using var pipe = BenchModel.Load(folder);
        var loadSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"model {folder}: loaded in {loadSeconds:F2} s, RSS +{(ProcessMemory.Resident() - rssStart) / 1048576.0:F1} MiB");
        var s = pipe.Settings;
        Console.WriteLine($"defaults: {s.Solver} {s.NumInferenceSteps} steps, shift {s.TimeShift}, guidance {s.GuidanceScale}");

        var captions = BenchModel.HeldOut(count + 1);
        clock.Restart();
        using (var first = pipe.GenerateAsync(BenchModel.Request(args, captions[0].Caption, 0)).GetAwaiter().GetResult())
            Console.WriteLine($"first image ({first.Images[0].Width}×{first.Images[0].Height}, {first.Evaluations[0].Total} model calls): {clock.Elapsed.TotalSeconds:F3} s");
        var seconds = new List<double>();
        for (var i = 1; i <= count; i++)
        {
            clock.Restart();
            using var result = pipe.GenerateAsync(BenchModel.Request(args, captions[i].Caption, i)).GetAwaiter().GetResult();
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"per image over {count}: median {BenchModel.Median(seconds):F3} s, best {seconds.Min():F3} s, worst {seconds.Max():F3} s");
        Console.WriteLine($"load + one image: {loadSeconds + BenchModel.Median(seconds):F2} s");
        return 0;
    }
}
