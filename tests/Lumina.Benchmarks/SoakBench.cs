using System.Diagnostics;

namespace Lumina.Benchmarks;

/// <summary>
/// Memory stability: N consecutive generations (held-out captions, one seed each) with one pipeline in one process.
/// Resident memory is read after a full GC after generation 10 and after generation N; the figure is their ratio.
/// The pipeline trims the native heap after each generation (<c>malloc_trim</c> on glibc); set <c>MALLOC_ARENA_MAX</c>
/// to compare allocator settings.
/// </summary>
public sealed class SoakBench : IBenchCommand
{
    public string Name => "soak";

    public string Description => "RSS after generation 10 vs after N consecutive generations (args: [--model models/lumina-demo|random-demo|tiny] [--n 100] [--size S] [--steps N] [--threads T])";

    public int Run(string[] args)
    {
        BenchModel.SetThreads(args);
        var folder = BenchModel.Folder(args);
        var n = BenchModel.IntArg(args, "--n", 100);
        Console.WriteLine($"MALLOC_ARENA_MAX={Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") ?? "(default)"}");
        if (n < 10) throw new ArgumentOutOfRangeException(nameof(args), n, "--n must be at least 10.");
        using var pipe = BenchModel.Load(folder);
        var scenes = BenchModel.HeldOut(n);
        var rssAfterLoad = SettledResident();
        Console.WriteLine($"model {folder}; RSS after load {rssAfterLoad / 1048576.0:F1} MiB");
        var clock = Stopwatch.StartNew();
        long at10 = 0, atN = 0;
        for (var i = 1; i <= n; i++)
        {
            using (pipe.GenerateAsync(BenchModel.Request(args, scenes[i - 1].Caption, i)).GetAwaiter().GetResult()) { }
            if (i % 10 == 0 || i == n)
            {
                var rss = SettledResident();
                if (i == 10) at10 = rss;
                if (i == n) atN = rss;
                Console.WriteLine($"after {i,4}: RSS {rss / 1048576.0,8:F1} MiB, managed {GC.GetTotalMemory(false) / 1048576.0,6:F1} MiB, {clock.Elapsed.TotalSeconds / i:F3} s/image");
            }
        }
        Console.WriteLine($"RSS after {n} ÷ RSS after 10: {(double)atN / at10:F4} ({(atN - at10) / 1048576.0:+0.0;-0.0} MiB)");
        return 0;
    }

    private static long SettledResident()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ProcessMemory.Resident();
    }
}
