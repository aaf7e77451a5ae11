using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// The matmul reference alone: alternating fp32 and bf16 2048² readings (each ≥ 1 s of work) at 1 and 2 threads,
/// every reading printed. Shows what the other benches divide by, and whether bf16 is fast on this CPU.
/// Args: [readings per dtype and thread count] (default 3) [matrix side] (default 2048).
/// </summary>
public sealed class MatmulProbeBench : IBenchCommand
{
    public string Name => "matmul-probe";

    public string Description => "2048² matmul GFLOP/s in fp32 and bf16 at 1 and 2 threads, every reading (args: [readings] [size])";

    public int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0]) : 3;
        var size = args.Length > 1 ? int.Parse(args[1]) : MatmulProbe.DefaultSize;
        Console.WriteLine($"machine: {MatmulProbe.Machine()}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        using var fp32 = new MatmulProbe(ScalarType.Float32, size);
        using var bf16 = new MatmulProbe(ScalarType.BFloat16, size);
        foreach (var threads in new[] { 1, 2 })
        {
            TorchSharp.torch.set_num_threads(threads);
            for (var i = 0; i < count; i++)
            {
                fp32.Read($"#{i}");
                bf16.Read($"#{i}");
            }
            Console.WriteLine($"threads {threads}: {fp32.Describe(threads)}");
            Console.WriteLine($"threads {threads}: {bf16.Describe(threads)}; bf16 ÷ fp32 = {bf16.Median(threads) / fp32.Median(threads):F2}");
        }
        return 0;
    }
}
