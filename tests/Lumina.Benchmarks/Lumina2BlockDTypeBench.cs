using System.Diagnostics;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// One full-size Lumina-Image 2.0 main block (<see cref="DiTPresets.Lumina2"/>: modulated, dim 2304, GQA 24/8 heads,
/// SwiGLU) on the joint sequence a 512² CFG forward runs (2 × 1,084 tokens), in float32 and in bfloat16, in one
/// process: forward seconds of each and their ratio. The full transformer is 30 such blocks (2 context-refiner, 2
/// noise-refiner, 26 main; the refiners are over shorter sequences), so bf16 ÷ fp32 of one block is the factor a bf16
/// forward of the whole model would take over the fp32 one, which at full size would run for hours on a CPU without
/// native bf16. Args: [fp32Runs=3] [bf16Runs=1] [tokens=1084] [threads=2].
/// </summary>
public sealed class Lumina2BlockDTypeBench : IBenchCommand
{
    public string Name => "lumina2-block-dtype";

    public string Description => "One full-size Lumina 2 block forward (2 x 1084 tokens) in fp32 vs bf16 in one process: seconds and the bf16/fp32 factor (args: [fp32Runs] [bf16Runs] [tokens] [threads])";

    public int Run(string[] args)
    {
        var fp32Runs = args.Length > 0 ? int.Parse(args[0]) : 3;
        var bf16Runs = args.Length > 1 ? int.Parse(args[1]) : 1;
        var tokens = args.Length > 2 ? int.Parse(args[2]) : 1084;
        torch.set_num_threads(args.Length > 3 ? int.Parse(args[3]) : 2);
        if (fp32Runs < 1 || bf16Runs < 1 || tokens < 1) throw new ArgumentException("Runs and tokens must be at least 1.");
        var config = DiTPresets.Lumina2;
        Console.WriteLine($"note: load average {File.ReadAllText("/proc/loadavg").Trim()}; threads {torch.get_num_threads()}");
        Console.WriteLine($"machine: {MatmulProbe.Machine()}");

        var fp32 = Time(config, ScalarType.Float32, tokens, fp32Runs);
        var bf16 = Time(config, ScalarType.BFloat16, tokens, bf16Runs);
        Console.WriteLine($"block forward [2, {tokens}, {config.Dim}]: fp32 median {fp32:F2} s, bf16 median {bf16:F2} s; bf16 ÷ fp32 = {bf16 / fp32:F1}×");
        Console.WriteLine($"load average at end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static double Time(Lumina2Config config, ScalarType dtype, int tokens, int runs)
    {
        using var block = new Lumina2Block(config, modulated: true, dtype: dtype);
        DiTSpeedBench.RandomInit(block, seed: 0);
        block.eval();
        var g = new Generator(1);
        using var x = randn(2, tokens, config.Dim, generator: g).to_type(dtype);
        using var adaln = randn(2, Math.Min(config.Dim, 1024), generator: g).to_type(dtype);
        using var angles = rand(tokens, config.HeadDim / 2, generator: g) * 6.28f;
        using var freqs = polar(ones_like(angles), angles);
        var seconds = new List<double>();
        using (no_grad())
        {
            for (var i = 0; i < runs; i++)
            {
                using var scope = NewDisposeScope();
                var sw = Stopwatch.StartNew();
                var y = block.Forward(x, null, freqs, adaln);
                var finite = y.isfinite().all().item<bool>();
                seconds.Add(sw.Elapsed.TotalSeconds);
                Console.WriteLine($"  {dtype} run {i + 1}: {seconds[^1]:F2} s, finite {finite}");
            }
        }
        seconds.Sort();
        return seconds[seconds.Count / 2];
    }
}
