using System.Diagnostics;
using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// The efficiency anchor of <c>golden/cpu_speed.json</c>: a NextDiT (dim 768, 4 layers, 12 heads, 4 KV heads, caption
/// 256) forward on x 2×4×32×32 and caption 2×32×256 in fp32 and (where the CPU has native bf16, or with
/// <c>--bf16</c>) bf16, at 1 and 2 threads. Reports model FLOP/s divided by the FLOP/s of the <see cref="MatmulProbe"/>
/// in the same dtype, read in the same process on the same threads before and after every forward (upstream eager
/// PyTorch: 0.70 at 2 threads against a 1024² fp32 matmul). Args: [runs] (default 10) [--bf16].
/// </summary>
public sealed class DiTSpeedBench : IBenchCommand
{
    public string Name => "dit-speed";

    public string Description => "NextDiT cpu_speed config: model FLOP/s ÷ 2048² matmul FLOP/s, fp32 and bf16, at 1 and 2 threads (args: [runs] [--bf16])";

    internal static readonly NextDiTConfig SpeedConfig = new()
    {
        PatchSize = 2, InChannels = 4, Dim = 768, Layers = 4, Heads = 12, KvHeads = 4, MultipleOf = 256,
        NormEps = 1e-5, LearnSigma = true, QkNorm = true, CaptionDim = 256,
    };

    public int Run(string[] args)
    {
        var child = args.Contains("--child");
        var forceBf16 = args.Contains("--bf16");
        var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var runs = numbers.Length > 0 ? int.Parse(numbers[0]) : 10;
        var policy = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset: libgomp default, spin then sleep)";
        Console.WriteLine($"OMP_WAIT_POLICY={policy}; the machine is shared with other agents, figures can be noisy.");
        Console.WriteLine($"machine: {MatmulProbe.Machine()}");
        var code = Measure(runs, forceBf16);
        if (child || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return code;

        // OpenMP threads spin at every barrier by default. On an oversubscribed machine a spinning thread burns the
        // time slice its partner needs, which costs a model with many parallel regions far more than one big matmul.
        // The OpenMP runtime reads the policy when it loads, so the passive run happens in a child process.
        Console.WriteLine();
        Console.WriteLine("again in a child process with OMP_WAIT_POLICY=PASSIVE (threads sleep at barriers):");
        var info = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        foreach (var a in Environment.GetCommandLineArgs().Skip(1)) info.ArgumentList.Add(a);
        info.ArgumentList.Add("--child");
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        using var process = Process.Start(info)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static int Measure(int runs, bool forceBf16)
    {
        using var model = new NextDiT(SpeedConfig);
        RandomInit(model, seed: 0);
        model.eval();
        var x = randn(2, 4, 32, 32, generator: new Generator(1));
        var t = tensor(new[] { 0.3f, 0.7f });
        var cap = randn(2, 32, 256, generator: new Generator(2));
        var mask = ones(2, 32, dtype: ScalarType.Int32);
        var flops = ForwardFlops(SpeedConfig, batch: 2, height: 32, width: 32, captionLength: 32);
        Console.WriteLine($"model FLOP per forward (analytic): {flops / 1e9:F2} GFLOP");

        foreach (var dtype in MatmulProbe.BenchDTypes(forceBf16))
        {
            model.to(dtype); // fp32 first, then the same weights rounded to bf16
            using var probe = new MatmulProbe(dtype);
            var name = MatmulProbe.Name(dtype);
            foreach (var threads in new[] { 1, 2 })
            {
                torch.set_num_threads(threads);
                // The probe reads before the first forward and after every one, so both see the same machine load.
                var forwardTimes = new List<double>();
                using (no_grad())
                {
                    for (var i = 0; i < 2; i++) { using var w = model.Forward(x, t, cap, mask); }
                    probe.Read("before");
                    for (var i = 0; i < runs; i++)
                    {
                        forwardTimes.Add(Time(() => { using var o = model.Forward(x, t, cap, mask); }));
                        probe.Read(i == runs - 1 ? "after" : $"{i + 1}");
                    }
                }
                var (fMed, fMin) = (Median(forwardTimes), forwardTimes.Min());
                var matmul = probe.Median(threads) * 1e9;
                var best = probe.Readings.Where(r => r.Threads == threads).Max(r => r.GflopPerSecond) * 1e9;
                Console.WriteLine($"{name} threads {threads}: forward median {fMed * 1000:F1} ms ({flops / fMed / 1e9:F1} GFLOP/s), best {fMin * 1000:F1} ms");
                Console.WriteLine($"{name} threads {threads}: {probe.Describe(threads)}");
                Console.WriteLine($"{name} threads {threads}: model FLOP/s ÷ {name} matmul FLOP/s = {flops / fMed / matmul:F3} (medians), {flops / fMin / best:F3} (bests)");
            }
        }
        Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>Fills every parameter with small seeded normal values (LayerNorm/RMSNorm gains near 1).</summary>
    internal static void RandomInit(nn.Module model, long seed)
    {
        var g = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            p.normal_(0, 0.02, generator: g);
            if (name.Contains("norm")) p.add_(1); // RMSNorm/LayerNorm gains (and their biases, harmlessly) near 1
        }
    }

    /// <summary>Analytic FLOP of a NextDiT forward: 2·MAC of every matmul (linears and both attentions).</summary>
    internal static double ForwardFlops(NextDiTConfig c, int batch, int height, int width, int captionLength)
    {
        double n = (double)(height / c.PatchSize) * (width / c.PatchSize);
        double tokens = batch * n, capTokens = batch * captionLength;
        double d = c.Dim, hd = c.HeadDim, h = c.Heads, kv = c.KvHeads ?? c.Heads, cond = Math.Min(c.Dim, 1024);
        double ffn = Lumina.Nn.SwiGluFeedForward.HiddenDim(c.Dim, c.MultipleOf, c.FfnDimMultiplier);
        double perLayerMacs =
            tokens * d * (h * hd + 2 * kv * hd)          // wq, wk, wv
            + tokens * h * hd * d                          // wo
            + tokens * 3 * d * ffn                         // w1, w2, w3
            + capTokens * c.CaptionDim * 2 * kv * hd       // wk_y, wv_y
            + batch * cond * 4 * d                         // adaLN
            + batch * h * n * n * hd * 2                   // QKᵀ and PV
            + batch * h * n * captionLength * hd * 2;      // caption attention
        double embedMacs = tokens * c.PatchSize * c.PatchSize * c.InChannels * d
                           + batch * (256 * cond + cond * cond + c.CaptionDim * cond)
                           + batch * cond * d + tokens * d * c.PatchSize * c.PatchSize * c.OutChannels;
        return 2 * (c.Layers * perLayerMacs + embedMacs);
    }

    internal static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalSeconds;
    }

    internal static double Median(List<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
