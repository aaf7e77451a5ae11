using System.Diagnostics;
using Lumina.Schedulers;
using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Benchmarks;

/// <summary>
/// What the samplers cost on top of the model: wall time per step and per velocity call of every ODE method and
/// the SDE sampler with a near-free velocity on 1024² latents (batch 2 = [cond; uncond]), and the resident memory
/// of a 10-step against a 100-step run.
/// </summary>
public sealed class SamplingBench : IBenchCommand
{
    public string Name => "sampling";

    public string Description => "Solver overhead per step/call on [2,4,128,128] latents and RSS of 10 vs 100 steps (args: [steps=30])";

    public int Run(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0]) : 30;
        torch.set_num_threads(Math.Min(2, Environment.ProcessorCount));
        using var x0 = torch.randn(2, 4, 128, 128);
        // A velocity that costs one elementwise op, so the timings are the solver's own arithmetic and bookkeeping.
        VelocityFunction velocity = (x, t) => x * (float)(t - 1);
        var grid = TimeGrid.Create(steps + 1, shift: 4);

        Console.WriteLine($"latents [2,4,128,128] fp32, {steps} steps, threads {torch.get_num_threads()}");
        {
            // Baseline: the bare tensor ops of one Euler step (velocity, scale, add), no solver.
            var sw = Stopwatch.StartNew();
            var y = x0.clone();
            for (var i = 0; i < steps; i++)
            {
                using var scope = torch.NewDisposeScope();
                var next = (y + (y * -0.5f) * 0.01).MoveToOuterDisposeScope();
                y.Dispose();
                y = next;
            }
            y.Dispose();
            Console.WriteLine($"bare euler ops: {sw.Elapsed.TotalMilliseconds / steps:F3} ms/step");
        }
        Console.WriteLine($"{"method",-10} {"calls",6} {"ms/step",9} {"ms/call",9} {"ms total",9}");
        foreach (var method in Enum.GetValues<OdeMethod>())
        {
            var solver = OdeSolver.Create(method);
            using (solver.Solve(velocity, x0, grid)) { }   // warm-up
            var best = double.MaxValue;
            var calls = 0;
            for (var rep = 0; rep < 3; rep++)
            {
                var sw = Stopwatch.StartNew();
                using var s = solver.Solve(velocity, x0, grid);
                best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                calls = s.FunctionEvaluations;
            }
            Console.WriteLine($"{solver.Name,-10} {calls,6} {best / steps,9:F3} {best / calls,9:F3} {best,9:F1}");
        }
        {
            var sde = new SdeSampler(new SdeOptions { NumSteps = steps + 1 });
            using var gen = new torch.Generator(0);
            using (sde.Sample(velocity, x0, gen)) { }
            var sw = Stopwatch.StartNew();
            using var s = sde.Sample(velocity, x0, gen);
            var ms = sw.Elapsed.TotalMilliseconds;
            Console.WriteLine($"{"sde-em",-10} {s.FunctionEvaluations,6} {ms / steps,9:F3} {ms / s.FunctionEvaluations,9:F3} {ms,9:F1}");
        }

        long RssAfter(int points)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            ProcessMemory.ResetPeak();
            var before = ProcessMemory.Resident();
            using (new MidpointSolver().Solve(velocity, x0, TimeGrid.Create(points, shift: 4))) { }
            return ProcessMemory.Peak() - before;
        }
        RssAfter(11);
        var ten = RssAfter(11);
        var hundred = RssAfter(101);
        Console.WriteLine($"midpoint peak RSS growth: 10 steps {ten / 1048576.0:F1} MiB, 100 steps {hundred / 1048576.0:F1} MiB (one latent is {x0.NumberOfElements * 4 / 1048576.0:F1} MiB)");
        return 0;
    }
}
