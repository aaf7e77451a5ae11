using Lumina.Sampling;
using System.Diagnostics;
using System.Globalization;
using Lumina.Pipelines;
using Lumina.Training.Shapes;

namespace Lumina.Benchmarks;

/// <summary>
/// Step caching on the demo model: for each threshold (0 = caching off), model evaluations per image, wall time per
/// image, and the prompt-adherence accuracies (<see cref="PromptAdherenceAnalyser"/>) over N held-out captions
/// (<c>new ShapesDataset(32, seed: 1)</c>) generated through the pipeline at the model's default settings, caption i
/// with seed i. The thresholds are interleaved per caption so the timings share the machine's conditions. Prints the
/// evaluation reduction (calls ÷ evaluations) and each threshold's adherence drop in points against caching off.
/// </summary>
public sealed class StepCacheBench : IBenchCommand
{
    public string Name => "step-cache";

    public string Description => "Evaluations, time and adherence per step-cache threshold (args: [--model models/lumina-demo|random-demo|tiny] [--n 100] [--thresholds 0,0.01,0.02,0.05,0.1] [--size S] [--steps N] [--threads T])";

    public int Run(string[] args)
    {
        BenchModel.SetThreads(args);
        var folder = BenchModel.Folder(args);
        var n = BenchModel.IntArg(args, "--n", 100);
        var thresholds = (BenchModel.Arg(args, "--thresholds") ?? "0,0.01,0.02,0.05,0.1").Split(',')
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        if (thresholds[0] != 0) thresholds = [0, .. thresholds];
        using var pipe = BenchModel.Load(folder);
        var s = pipe.Settings;
        Console.WriteLine($"model {folder}; defaults {s.Solver} {s.NumInferenceSteps} steps, shift {s.TimeShift}, guidance {s.GuidanceScale}; {n} held-out captions");
        var scenes = BenchModel.HeldOut(n);
        using (pipe.GenerateAsync(BenchModel.Request(args, scenes[0].Caption, 0)).GetAwaiter().GetResult()) { } // warm-up

        var runs = thresholds.Select(t => new ThresholdRun(t)).ToArray();
        var clock = new Stopwatch();
        for (var i = 0; i < n; i++)
        {
            foreach (var run in runs)
            {
                var request = BenchModel.Request(args, scenes[i].Caption, i)
                    with { StepCache = run.Threshold == 0 ? null : new StepCacheOptions { Threshold = run.Threshold } };
                clock.Restart();
                using var result = pipe.GenerateAsync(request).GetAwaiter().GetResult();
                run.Seconds += clock.Elapsed.TotalSeconds;
                run.Evaluations.Add(result.Evaluations[0]);
                run.Scores.Add(PromptAdherenceAnalyser.Score(scenes[i], BenchModel.ToRgb(result.Images[0])));
            }
            if ((i + 1) % 10 == 0) Console.WriteLine($"  {i + 1}/{n} captions");
        }

        var baseline = runs[0];
        var b = AdherenceSummary.From(baseline.Scores);
        Console.WriteLine($"{"threshold",9} {"calls/img",9} {"evals/img",9} {"reduction",9} {"s/img",7} {"speed-up",8} {"colour",7} {"position",8} {"shape",6} {"backgr.",7} {"max drop (pts)",14} {"same verdicts",13}");
        foreach (var run in runs)
        {
            var a = AdherenceSummary.From(run.Scores);
            var calls = run.Evaluations.Average(e => e.Total);
            var evals = run.Evaluations.Average(e => e.Evaluated);
            var same = run.Scores.Zip(baseline.Scores).Count(p => p.First == p.Second) / (double)n;
            var drops = new[] { b.Color - a.Color, b.Position - a.Position, b.Shape - a.Shape, b.Background - a.Background }.Select(d => d * 100).ToArray();
            Console.WriteLine($"{run.Threshold,9:G4} {calls,9:F2} {evals,9:F2} {calls / evals,9:F3} {run.Seconds / n,7:F3} {baseline.Seconds / run.Seconds,8:F3} "
                + $"{a.Color,7:P1} {a.Position,8:P1} {a.Shape,6:P1} {a.Background,7:P1} {drops.Max(),14:F1} {same,13:P1}");
        }
        Console.WriteLine("reduction = model calls ÷ full evaluations; speed-up = caching-off time ÷ this threshold's time (same run, interleaved); drop = caching-off accuracy − this accuracy, worst attribute, in points; same verdicts = images whose four attribute verdicts equal the caching-off image's.");
        return 0;
    }

    private sealed class ThresholdRun(double threshold)
    {
        public double Threshold { get; } = threshold;
        public double Seconds { get; set; }
        public List<ModelEvaluations> Evaluations { get; } = [];
        public List<ShapeAdherence> Scores { get; } = [];
    }
}
