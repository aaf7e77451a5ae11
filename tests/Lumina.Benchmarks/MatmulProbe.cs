using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// The matmul reference every bench that prints an efficiency ratio divides by: a 2048×2048 matmul in one dtype, on
/// the current thread count, repeated until at least <see cref="MinimumSeconds"/> of work has run, so one reading is
/// not a single noisy call. Benches take readings before the model, between model runs and after it; every reading is
/// kept and printed, and the ratio uses their median, so a neighbour's burst on the shared machine shows up as a
/// spread instead of silently moving the ratio.
/// </summary>
public sealed class MatmulProbe : IDisposable
{
    /// <summary>The default matrix side (2048²: large enough that the kernel, not the call overhead, is measured).</summary>
    public const int DefaultSize = 2048;

    /// <summary>Minimum accumulated matmul time per reading.</summary>
    public const double MinimumSeconds = 1.0;


    private readonly Tensor a;
    private readonly Tensor b;
    private readonly List<(string Label, int Threads, double GflopPerSecond)> readings = [];

    /// <summary>Creates the two seeded operands in <paramref name="dtype"/> on the CPU.</summary>
    public MatmulProbe(ScalarType dtype = ScalarType.Float32, int size = DefaultSize)
    {
        if (size < 16) throw new ArgumentOutOfRangeException(nameof(size), size, "The probe matrix side must be at least 16.");
        DType = dtype;
        Size = size;
        a = randn(size, size, generator: new Generator(3)).to_type(dtype);
        b = randn(size, size, generator: new Generator(4)).to_type(dtype);
        using var warm = a.mm(b);
    }

    /// <summary>The matrix side.</summary>
    public int Size { get; }

    /// <summary>FLOP of one matmul (2·n³).</summary>
    public double FlopPerCall => 2.0 * Size * Size * Size;

    /// <summary>The operands' dtype.</summary>
    public ScalarType DType { get; }

    /// <summary>Every reading so far: label, thread count and GFLOP/s.</summary>
    public IReadOnlyList<(string Label, int Threads, double GflopPerSecond)> Readings => readings;

    /// <summary>Takes one reading (≥ 1 s of matmuls) on the current thread count and returns its GFLOP/s.</summary>
    public double Read(string label)
    {
        using var _ = no_grad();
        var calls = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < MinimumSeconds)
        {
            using var m = a.mm(b);
            calls++;
        }
        var gflops = FlopPerCall * calls / sw.Elapsed.TotalSeconds / 1e9;
        readings.Add((label, torch.get_num_threads(), gflops));
        return gflops;
    }

    /// <summary>Median GFLOP/s of the readings taken on <paramref name="threads"/> threads (all readings when null).</summary>
    public double Median(int? threads = null)
    {
        var values = readings.Where(r => threads is null || r.Threads == threads).Select(r => r.GflopPerSecond).ToList();
        if (values.Count == 0) throw new InvalidOperationException("Take a reading before asking for the median.");
        return DiTSpeedBench.Median(values);
    }

    /// <summary>One line listing every reading on <paramref name="threads"/> threads, then their median, min and max.</summary>
    public string Describe(int? threads = null)
    {
        var chosen = readings.Where(r => threads is null || r.Threads == threads).ToList();
        var list = string.Join(", ", chosen.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Label} {r.GflopPerSecond:F0}")));
        var values = chosen.Select(r => r.GflopPerSecond).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"matmul{Size} {Name(DType)} GFLOP/s [{list}]: median {Median(threads):F1}, min {values.Min():F1}, max {values.Max():F1}");
    }

    /// <summary>
    /// The dtypes a bench compares: float32, plus bfloat16 when the CPU multiplies it natively or
    /// <paramref name="forceBf16"/> is set. Without native support a bf16 model forward takes minutes, so the bench
    /// prints one small bf16 reading as the evidence instead.
    /// </summary>
    public static IReadOnlyList<ScalarType> BenchDTypes(bool forceBf16)
    {
        if (forceBf16 || Lumina.Tensors.DTypePolicy.CpuBFloat16Support != Lumina.Tensors.BFloat16Support.None)
            return [ScalarType.Float32, ScalarType.BFloat16];
        using var small = new MatmulProbe(ScalarType.BFloat16, 256);
        using var smallFp32 = new MatmulProbe(ScalarType.Float32, 256);
        var (bf, fp) = (small.Read("bf16"), smallFp32.Read("fp32"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bf16 skipped: {Lumina.Tensors.DTypePolicy.Explain(null)}; a 256² bf16 matmul runs at {bf:F2} GFLOP/s against {fp:F1} in fp32 here. Pass --bf16 to run it anyway."));
        return [ScalarType.Float32];
    }

    /// <summary>Short dtype name for bench output.</summary>
    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "fp32",
        ScalarType.BFloat16 => "bf16",
        ScalarType.Float16 => "fp16",
        _ => dtype.ToString(),
    };

    /// <summary>The CPU model and the bf16-relevant flags (Linux /proc/cpuinfo), for naming the machine of a figure.</summary>
    public static string Machine()
    {
        var model = "unknown CPU";
        var flags = Array.Empty<string>();
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal)) model = line[(line.IndexOf(':') + 1)..].Trim();
                else if (line.StartsWith("flags", StringComparison.Ordinal)) flags = line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (flags.Length > 0 && model != "unknown CPU") break;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        string Has(string f) => flags.Contains(f) ? f : "no " + f;
        return $"{model}; {Has("avx2")}, {Has("avx512f")}, {Has("avx512_bf16")}, {Has("amx_bf16")}; {Environment.ProcessorCount} logical CPUs; " +
               $"dtype auto = {Lumina.Tensors.DTypePolicy.Explain(null)}";
    }

    /// <inheritdoc />
    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
    }
}
