using System.Diagnostics;
using Lumina.Models.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// Gemma-2B-shaped decoder layers (hidden 2048, 8 heads, 1 KV head of 256, MLP 16384) on the Lumina-Next caption
/// batch: 2 prompts × 256 tokens, fp32, computing hidden_states[-2] with the mask. Only <c>layers</c> layers are
/// built (default 2, ~0.9 GB) so the bench fits next to other work; per-layer cost is what scales to the 17 layers
/// Gemma-2B runs for hidden_states[-2]. Reports FLOP/s divided by the fp32 <see cref="MatmulProbe"/>'s FLOP/s, read on the same threads between the runs.
/// Args: [runs] [layers] (defaults 5, 2).
/// </summary>
public sealed class TextEncoderBench : IBenchCommand
{
    public string Name => "text-encoder-speed";

    public string Description => "Gemma-2B-shaped layers, 2×256 tokens, hidden_states[-2]: FLOP/s ÷ 2048² matmul FLOP/s (args: [runs] [layers])";

    public int Run(string[] args)
    {
        int runs = args.Length > 0 ? int.Parse(args[0]) : 5;
        int layers = args.Length > 1 ? int.Parse(args[1]) : 2;
        Console.WriteLine("note: the machine is shared with other agents; figures are medians and can be noisy.");
        var config = GemmaConfig.Gemma2B with { VocabSize = 4096, NumHiddenLayers = layers + 1 };
        using var model = new DecoderTextModel(config);
        const int batch = 2, tokens = 256;
        var ids = randint(4096, new long[] { batch, tokens }, generator: new Generator(5));
        var mask = ones(batch, tokens, dtype: ScalarType.Int64);
        mask[1, TensorIndex.Slice(100, null)] = 0;

        // Layers that hidden_states[-2] runs: all but the last.
        double perToken = 2.0 * (2048.0 * 2048 * 2 + 2048.0 * 256 * 2 + 3.0 * 2048 * 16384);
        double attention = 2.0 * 2 * batch * 8 * 256.0 * tokens * tokens;
        double flops = layers * (perToken * batch * tokens + attention);
        Console.WriteLine($"layers run: {layers}, analytic {flops / 1e9:F1} GFLOP per call");

        Console.WriteLine($"machine: {MatmulProbe.Machine()}");
        using var probe = new MatmulProbe(ScalarType.Float32);
        foreach (var threads in new[] { 1, 2 })
        {
            torch.set_num_threads(threads);
            var forward = new List<double>();
            using (var warm = model.HiddenState(ids, mask, -2)) { }
            probe.Read("before");
            for (int i = 0; i < runs; i++)
            {
                forward.Add(Time(() => { using var h = model.HiddenState(ids, mask, -2); }));
                probe.Read(i == runs - 1 ? "after" : $"{i + 1}");
            }

            double f = Median(forward), m = probe.Median(threads) * 1e9;
            Console.WriteLine($"threads {threads}: hidden_states[-2] median {f * 1000:F0} ms ({flops / f / 1e9:F1} GFLOP/s), " +
                              $"ratio {flops / f / m:F3}; Gemma-2B estimate {f / layers * 17:F2} s");
            Console.WriteLine($"threads {threads}: {probe.Describe(threads)}");
        }

        Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    private static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
