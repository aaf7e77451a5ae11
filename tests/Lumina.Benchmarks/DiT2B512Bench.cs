using System.Diagnostics;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// A full-size NextDiT-2B-GQA (Lumina-Next-T2I/SFT architecture, random weights, fp32) forward at 512×512: latent
/// 2×4×64×64 (batch 2 as for guidance), caption 2×L×2048. Reports build time, forward seconds and the peak resident
/// memory (VmHWM). Args: [captionTokens=128] [threads=all].
/// </summary>
public sealed class DiT2B512Bench : IBenchCommand
{
    public string Name => "dit-2b-512";

    public string Description => "Full-size NextDiT-2B-GQA fp32 forward at 512x512 (batch 2): seconds and peak RSS (args: [captionTokens] [threads])";

    public int Run(string[] args)
    {
        var captionTokens = args.Length > 0 ? int.Parse(args[0]) : 128;
        if (args.Length > 1) torch.set_num_threads(int.Parse(args[1]));
        Console.WriteLine($"note: shared machine (load average {File.ReadAllText("/proc/loadavg").Trim()}); threads {torch.get_num_threads()}");
        var sw = Stopwatch.StartNew();
        using var model = new NextDiT(DiTPresets.NextDiT2BGqa);
        DiTSpeedBench.RandomInit(model, seed: 0);
        model.eval();
        var parameters = model.parameters().Sum(p => p.numel());
        Console.WriteLine($"built NextDiT-2B-GQA ({parameters:N0} parameters, {parameters * 4 / 1e9:F2} GB fp32) in {sw.Elapsed.TotalSeconds:F1} s; RSS {ProcessMemory.Resident() / 1e9:F2} GB");

        var x = randn(2, 4, 64, 64, generator: new Generator(1));
        var t = tensor(new[] { 0.5f, 0.5f });
        var cap = randn(2, captionTokens, 2048, generator: new Generator(2));
        var mask = ones(2, captionTokens, dtype: ScalarType.Int32);
        var flops = DiTSpeedBench.ForwardFlops(DiTPresets.NextDiT2BGqa, 2, 64, 64, captionTokens);
        using (no_grad())
        {
            // fp32 1024² matmul FLOP/s on the same threads in the same process, before and after the forward.
            using var ma = randn(1024, 1024, generator: new Generator(3));
            using var mb = randn(1024, 1024, generator: new Generator(4));
            double MatmulSeconds() => DiTSpeedBench.Median(Enumerable.Range(0, 9).Select(_ => DiTSpeedBench.Time(() => { using var m = ma.mm(mb); })).ToList());
            var matmulBefore = MatmulSeconds();
            sw.Restart();
            using var output = model.Forward(x, t, cap, mask, new NextDiTForwardOptions { BaseSequenceLength = 4096 });
            var seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"forward 2x4x64x64 + caption 2x{captionTokens}x2048: {seconds:F2} s ({flops / 1e12:F2} TFLOP, {flops / seconds / 1e9:F1} GFLOP/s), " +
                              $"output [{string.Join(", ", output.shape)}], finite {output.isfinite().all().item<bool>()}");
            var matmul = (matmulBefore + MatmulSeconds()) / 2;
            const double matmulFlop = 2.0 * 1024 * 1024 * 1024;
            Console.WriteLine($"matmul1024 {matmul * 1000:F2} ms ({matmulFlop / matmul / 1e9:F1} GFLOP/s); model FLOP/s ÷ matmul FLOP/s = {flops / seconds / (matmulFlop / matmul):F3}");
        }
        Console.WriteLine($"peak RSS (VmHWM) {ProcessMemory.Peak() / 1e9:F2} GB; load average at end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }
}
