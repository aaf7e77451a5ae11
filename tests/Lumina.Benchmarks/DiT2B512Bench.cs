using System.Diagnostics;
using System.Runtime.InteropServices;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// A full-size NextDiT-2B-GQA (Lumina-Next-T2I/SFT architecture, random weights) forward at 512×512: latent 2×4×64×64
/// (batch 2 as for guidance), caption 2×L×2048, in fp32 and then bf16 in the same process (bf16 only where the CPU
/// multiplies it natively, or with <c>--bf16</c>). Per dtype: build time, forward seconds, the <see cref="MatmulProbe"/>
/// in that dtype before and after the forward, and the peak resident memory (VmHWM, reset before each dtype).
/// Args: [captionTokens=128] [threads=all] [--bf16] [--bf16-only].
/// </summary>
public sealed partial class DiT2B512Bench : IBenchCommand
{
    public string Name => "dit-2b-512";

    public string Description => "Full-size NextDiT-2B-GQA forward at 512x512 (batch 2), fp32 then bf16: seconds, ratios, peak RSS (args: [captionTokens] [threads] [--bf16] [--bf16-only])";

    public int Run(string[] args)
    {
        var forceBf16 = args.Contains("--bf16") || args.Contains("--bf16-only");
        var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var captionTokens = numbers.Length > 0 ? int.Parse(numbers[0]) : 128;
        if (numbers.Length > 1) torch.set_num_threads(int.Parse(numbers[1]));
        Console.WriteLine($"note: shared machine (load average {File.ReadAllText("/proc/loadavg").Trim()}); threads {torch.get_num_threads()}");
        Console.WriteLine($"machine: {MatmulProbe.Machine()}");
        var dtypes = MatmulProbe.BenchDTypes(forceBf16).Where(d => !args.Contains("--bf16-only") || d == ScalarType.BFloat16).ToList();
        var flops = DiTSpeedBench.ForwardFlops(DiTPresets.NextDiT2BGqa, 2, 64, 64, captionTokens);
        var results = new List<(ScalarType DType, double Seconds, double Peak)>();
        foreach (var dtype in dtypes)
        {
            var name = MatmulProbe.Name(dtype);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Trim();
            ProcessMemory.ResetPeak();
            Console.WriteLine($"--- {name}: RSS before build {ProcessMemory.Resident() / 1e9:F2} GB");
            var sw = Stopwatch.StartNew();
            using (var model = new NextDiT(DiTPresets.NextDiT2BGqa, dtype: dtype))
            using (var probe = new MatmulProbe(dtype))
            {
                DiTSpeedBench.RandomInit(model, seed: 0);
                model.eval();
                var parameters = model.parameters().Sum(p => p.numel());
                Console.WriteLine($"{name}: built NextDiT-2B-GQA ({parameters:N0} parameters, {parameters * (dtype == ScalarType.Float32 ? 4 : 2) / 1e9:F2} GB) in {sw.Elapsed.TotalSeconds:F1} s; RSS {ProcessMemory.Resident() / 1e9:F2} GB");
                using var x = randn(2, 4, 64, 64, generator: new Generator(1));
                using var t = tensor(new[] { 0.5f, 0.5f });
                using var cap = randn(2, captionTokens, 2048, generator: new Generator(2)).to_type(dtype);
                using var mask = ones(2, captionTokens, dtype: ScalarType.Int32);
                using (no_grad())
                {
                    probe.Read("before");
                    sw.Restart();
                    using var output = model.Forward(x, t, cap, mask, new NextDiTForwardOptions { BaseSequenceLength = 4096 });
                    var seconds = sw.Elapsed.TotalSeconds;
                    probe.Read("after");
                    Console.WriteLine($"{name}: forward 2x4x64x64 + caption 2x{captionTokens}x2048: {seconds:F2} s ({flops / 1e12:F2} TFLOP, {flops / seconds / 1e9:F1} GFLOP/s), " +
                                      $"output [{string.Join(", ", output.shape)}] {output.dtype}, finite {output.isfinite().all().item<bool>()}");
                    Console.WriteLine($"{name}: {probe.Describe()}");
                    Console.WriteLine($"{name}: model FLOP/s ÷ {name} matmul FLOP/s = {flops / seconds / (probe.Median() * 1e9):F3}");
                    results.Add((dtype, seconds, 0));
                }
            }
            var peak = ProcessMemory.Peak();
            results[^1] = results[^1] with { Peak = peak };
            Console.WriteLine($"{name}: peak RSS (VmHWM since the reset) {peak / 1e9:F2} GB");
        }
        if (results.Count == 2)
            Console.WriteLine($"bf16 ÷ fp32: {results[0].Seconds / results[1].Seconds:F2}× faster, peak RSS {results[1].Peak / results[0].Peak:F3}× of fp32");
        Console.WriteLine($"load average at end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    // glibc keeps freed pages in its arenas; hand them back so the next dtype's peak starts from what is really live.
    private static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (EntryPointNotFoundException) { }
        catch (DllNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
