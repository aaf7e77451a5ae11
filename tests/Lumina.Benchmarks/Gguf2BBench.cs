using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Nn;
using Lumina.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// The full-size Lumina-Image 2.0 transformer (<see cref="DiTPresets.Lumina2"/>, seeded random weights) stored four
/// ways, each measured in its own child process so each peak RSS (VmHWM) is that variant's alone:
/// <list type="bullet">
/// <item><c>fp32</c>: dense float32 (the reference for the forward time);</item>
/// <item><c>bf16</c>: dense bfloat16 storage, peak RSS only (this CPU has no native bf16 matmul: the child prints the
/// fp32 ÷ bf16 matmul factor from <see cref="MatmulProbe"/> instead of a forward that would take hours);</item>
/// <item><c>q8_0</c>, <c>q4_0</c>: a GGUF written by <see cref="Lumina2Checkpoint.WriteGguf"/> with ComfyUI-GGUF's
/// rules (only <c>layers.N</c> matrices quantized, w2 of Q4_0 as Q4_1), loaded with
/// <see cref="QuantizedWeightsMode.KeepQuantized"/> and run in float32, one block dequantized at a time;</item>
/// <item><c>q8_0-load</c> (only when asked): the Q8_0 file dequantized at load.</item>
/// </list>
/// The forward is the one of <c>lumina2-512</c>: 512×512, batch 2, caption slots 64 (60 and 1 valid). Prints a table:
/// peak RSS against bf16 and fp32 storage, forward seconds against fp32. Args: [variants=fp32,bf16,q8_0,q4_0]
/// [workDir=/tmp]. Needs about 13 GB at its largest child: run it under <c>flock /work/bigmem.lock</c>.
/// </summary>
public sealed class Gguf2BBench : IBenchCommand
{
    internal const string ChildName = "gguf-2b-variant";

    public string Name => "gguf-2b";

    public string Description => "Full-size Lumina 2 at Q8_0/Q4_0 (GGUF kept quantized) vs fp32 and bf16: peak RSS per variant (one process each), forward 512x512 batch 2 (args: [variants] [workDir])";

    public int Run(string[] args)
    {
        var variants = (args.Length > 0 ? args[0] : "fp32,bf16,q8_0,q4_0").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var work = Path.Combine(args.Length > 1 ? args[1] : Path.GetTempPath(), $"lumina-gguf-2b-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        Console.WriteLine($"machine: {MatmulProbe.Machine()}");
        Console.WriteLine($"note: shared machine (load average {File.ReadAllText("/proc/loadavg").Trim()}); each variant runs in its own process, 2 threads");
        var results = new List<Dictionary<string, string>>();
        try
        {
            foreach (var variant in variants)
            {
                if (variant is not ("fp32" or "bf16" or "q8_0" or "q4_0" or "q8_0-load"))
                    throw new ArgumentException($"Unknown variant '{variant}'; use fp32, bf16, q8_0, q4_0, q8_0-load.");
                var type = variant.StartsWith("q8_0", StringComparison.Ordinal) ? "Q8_0" : variant == "q4_0" ? "Q4_0" : null;
                var file = type is null ? "-" : Path.Combine(work, $"lumina2-random.{type}.gguf");
                if (type is not null && !File.Exists(file))
                    RunChild(["write", type, file], null);
                results.Add(RunChild(["run", variant, file], variant));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        var bf16 = results.FirstOrDefault(r => r["variant"] == "bf16");
        var fp32 = results.FirstOrDefault(r => r["variant"] == "fp32");
        Console.WriteLine();
        Console.WriteLine($"{"variant",-10} {"file GB",8} {"load s",7} {"peak RSS GB",12} {"÷ bf16",7} {"÷ fp32",7} {"forward s",10} {"÷ fp32",7}");
        foreach (var r in results)
        {
            var rss = double.Parse(r["peak_rss_gb"], CultureInfo.InvariantCulture);
            string Ratio(Dictionary<string, string>? baseline, string key) =>
                baseline is null || !r.ContainsKey(key) || !baseline.ContainsKey(key) ? "-"
                    : (double.Parse(r[key], CultureInfo.InvariantCulture) / double.Parse(baseline[key], CultureInfo.InvariantCulture)).ToString("F3", CultureInfo.InvariantCulture);
            Console.WriteLine($"{r["variant"],-10} {r.GetValueOrDefault("file_gb", "-"),8} {r["load_s"],7} {rss,12:F2} {Ratio(bf16, "peak_rss_gb"),7} {Ratio(fp32, "peak_rss_gb"),7} " +
                              $"{r.GetValueOrDefault("forward_s", "-"),10} {Ratio(fp32, "forward_s"),7}");
        }
        if (bf16 is not null && bf16.TryGetValue("bf16_matmul_factor", out var factor))
            Console.WriteLine($"bf16 forward not run: fp32 matmul ÷ bf16 matmul on this CPU = {factor}× (no AVX512-BF16/AMX), so a bf16 forward would take about {factor}× the fp32 one.");
        Console.WriteLine($"load average at end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    // Runs this program again as the child bench; echoes its output and parses its 'RESULT k=v ...' line.
    private static Dictionary<string, string> RunChild(string[] childArgs, string? variant)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        start.ArgumentList.Add(ChildName);
        foreach (var a in childArgs) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            Console.WriteLine($"  [{variant ?? childArgs[1]}] {line}");
            if (line.StartsWith("RESULT ", StringComparison.Ordinal))
                foreach (var kv in line["RESULT ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    result[kv[..kv.IndexOf('=')]] = kv[(kv.IndexOf('=') + 1)..];
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"The {ChildName} child ({string.Join(' ', childArgs)}) exited with {process.ExitCode}.");
        if (variant is not null && !result.ContainsKey("variant"))
            throw new InvalidOperationException($"The {variant} child printed no RESULT line.");
        return result;
    }
}

/// <summary>One variant of <see cref="Gguf2BBench"/> (run by it in a child process; not meant to be run by hand).</summary>
public sealed class Gguf2BVariantBench : IBenchCommand
{
    public string Name => Gguf2BBench.ChildName;

    public string Description => "(child of gguf-2b) write <type> <file> | run <variant> <file>";

    public int Run(string[] args)
    {
        torch.set_num_threads(2);
        var config = DiTPresets.Lumina2;
        if (args[0] == "write")
        {
            var sw = Stopwatch.StartNew();
            Write(config, Enum.Parse<GgmlType>(args[1]), args[2]);
            Console.WriteLine($"wrote {args[2]} ({new FileInfo(args[2]).Length / 1e9:F2} GB) in {sw.Elapsed.TotalSeconds:F1} s; peak RSS of the writer {ProcessMemory.Peak() / 1e9:F2} GB");
            return 0;
        }
        var variant = args[1];
        var path = args[2];
        ProcessMemory.ResetPeak();
        var result = new List<string> { $"variant={variant}" };
        if (path != "-") result.Add($"file_gb={new FileInfo(path).Length / 1e9:F2}");
        var watch = Stopwatch.StartNew();
        Lumina2Transformer model;
        switch (variant)
        {
            case "fp32":
            case "bf16":
                using (ModuleFactory.SkipInitialization())
                    model = new Lumina2Transformer(config, dtype: variant == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32);
                DiTSpeedBench.RandomInit(model, seed: 0);
                break;
            default:
                model = Lumina2Checkpoint.LoadModel(path, config,
                    mode: variant == "q8_0-load" ? QuantizedWeightsMode.DequantizeAtLoad : QuantizedWeightsMode.KeepQuantized);
                break;
        }
        using var _ = model;
        model.eval();
        result.Add($"load_s={watch.Elapsed.TotalSeconds:F1}");
        Console.WriteLine($"built {variant} in {watch.Elapsed.TotalSeconds:F1} s; RSS {ProcessMemory.Resident() / 1e9:F2} GB" +
                          (model.BlockWeights is QuantizedWeights q ? $"; {q.QuantizedKeys.Count} matrices kept quantized ({q.QuantizedBytes / 1e9:F2} GB of blocks)" : ""));

        if (variant == "bf16")
        {
            // No forward: bf16 matmuls run ~100-200x slower than fp32 on a CPU without AVX512-BF16; give the factor.
            double fp32Median, bf16Median;
            using (var probe = new MatmulProbe(ScalarType.Float32, 256)) { probe.Read("fp32"); fp32Median = probe.Median(); Console.WriteLine($"fp32: {probe.Describe()}"); }
            using (var probe = new MatmulProbe(ScalarType.BFloat16, 256)) { probe.Read("bf16"); bf16Median = probe.Median(); Console.WriteLine($"bf16: {probe.Describe()}"); }
            result.Add($"bf16_matmul_factor={fp32Median / bf16Median:F0}");
        }
        else
        {
            using var x = randn(2, 16, 64, 64, generator: new Generator(1));
            using var t = tensor(new[] { 0.5f, 0.5f });
            using var cap = randn(2, 64, config.CaptionDim, generator: new Generator(2));
            using var mask = zeros(2, 64, dtype: ScalarType.Int32);
            mask[0, ..60] = tensor(1);
            mask[1, ..1] = tensor(1);
            using (no_grad())
            {
                watch.Restart();
                using var output = model.Forward(x, t, cap, mask);
                var seconds = watch.Elapsed.TotalSeconds;
                var flops = Lumina2512Bench.ForwardFlops(config, 64, 64, 64, [60, 1]);
                Console.WriteLine($"forward 2x16x64x64: {seconds:F2} s ({flops / seconds / 1e9:F1} GFLOP/s), finite {output.isfinite().all().item<bool>()}");
                result.Add($"forward_s={seconds:F2}");
            }
        }
        var peak = ProcessMemory.Peak();
        Console.WriteLine($"peak RSS (VmHWM) {peak / 1e9:F2} GB; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        result.Add($"peak_rss_gb={peak / 1e9:F2}");
        Console.WriteLine("RESULT " + string.Join(' ', result));
        return 0;
    }

    // Seeded random weights (normal 0.02, norm gains near 1, as DiTSpeedBench.RandomInit) written one tensor at a time.
    private static void Write(Lumina2Config config, GgmlType type, string path)
    {
        using var skeleton = new Lumina2Transformer(config, new Device("meta"));
        var shapes = skeleton.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var index = 0;
        var tensors = shapes.Keys.Select(key =>
        {
            var seed = (ulong)index++;
            return new KeyValuePair<string, Func<Tensor>>(key, () =>
            {
                var values = normal(0, 0.02, shapes[key], generator: new Generator(seed));
                return key.Contains("norm", StringComparison.Ordinal) ? values.add_(1) : values;
            });
        }).ToList();
        Lumina2Checkpoint.WriteGguf(path, tensors, shapes, type);
    }
}
