using System.Diagnostics;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// The full-size Lumina-Image 2.0 transformer (<see cref="DiTPresets.Lumina2"/>, random weights) in fp32: one forward at
/// 512×512, latent 2×16×64×64 (batch 2, [cond; uncond] as CFG runs it), caption 2×L×2304 with L slots, the conditional
/// caption using <c>condTokens</c> of them and the unconditional one a single token (an empty negative prompt is just
/// BOS), so the joint sequence is padded and masked as in real use. Prints build time, forward seconds, the
/// <see cref="MatmulProbe"/> before and after, model FLOP/s ÷ matmul FLOP/s, and peak RSS (VmHWM).
/// Args: [captionSlots=64] [condTokens=60] [threads=2] [dtype=fp32|bf16] (bf16: weights and inputs in bfloat16; the FLOP
/// ratio is then against the fp32 matmul probe, so it shows what bf16 costs on this CPU). Needs about 11 GB: run it under <c>flock /work/bigmem.lock</c>.
/// </summary>
public sealed class Lumina2512Bench : IBenchCommand
{
    public string Name => "lumina2-512";

    public string Description => "Full-size Lumina-Image 2.0 transformer fp32 forward at 512x512, batch 2: seconds, FLOP ratio, peak RSS (args: [captionSlots] [condTokens] [threads])";

    public int Run(string[] args)
    {
        var slots = args.Length > 0 ? int.Parse(args[0]) : 64;
        var condTokens = args.Length > 1 ? int.Parse(args[1]) : 60;
        torch.set_num_threads(args.Length > 2 ? int.Parse(args[2]) : 2);
        var dtype = (args.Length > 3 ? args[3] : "fp32") switch
        {
            "fp32" => ScalarType.Float32,
            "bf16" => ScalarType.BFloat16,
            var other => throw new ArgumentException($"dtype must be fp32 or bf16; got '{other}'."),
        };
        if (condTokens < 1 || condTokens > slots) throw new ArgumentException($"condTokens must be in 1..{slots}; got {condTokens}.");
        var config = DiTPresets.Lumina2;
        Console.WriteLine($"note: shared machine (load average {File.ReadAllText("/proc/loadavg").Trim()}); threads {torch.get_num_threads()}");
        Console.WriteLine($"machine: {MatmulProbe.Machine()}");
        ProcessMemory.ResetPeak();

        var sw = Stopwatch.StartNew();
        using var model = new Lumina2Transformer(config, dtype: dtype);
        DiTSpeedBench.RandomInit(model, seed: 0);
        model.eval();
        var parameters = model.parameters().Sum(p => p.numel());
        Console.WriteLine($"built Lumina-Image 2.0 in {dtype} ({parameters:N0} parameters, {parameters * (dtype == ScalarType.BFloat16 ? 2 : 4) / 1e9:F2} GB) in {sw.Elapsed.TotalSeconds:F1} s; RSS {ProcessMemory.Resident() / 1e9:F2} GB");

        using var probe = new MatmulProbe();
        using var x = randn(2, 16, 64, 64, generator: new Generator(1)).to_type(dtype);
        using var t = tensor(new[] { 0.5f, 0.5f });
        using var cap = randn(2, slots, config.CaptionDim, generator: new Generator(2)).to_type(dtype);
        using var mask = zeros(2, slots, dtype: ScalarType.Int32);
        mask[0, ..condTokens] = tensor(1);
        mask[1, ..1] = tensor(1);
        var flops = ForwardFlops(config, 64, 64, slots, [condTokens, 1]);
        using (no_grad())
        {
            probe.Read("before");
            sw.Restart();
            using var output = model.Forward(x, t, cap, mask);
            var seconds = sw.Elapsed.TotalSeconds;
            probe.Read("after");
            Console.WriteLine($"forward 2x16x64x64 + caption 2x{slots}x{config.CaptionDim} (valid {condTokens} and 1): {seconds:F2} s " +
                              $"({flops / 1e12:F2} TFLOP, {flops / seconds / 1e9:F1} GFLOP/s), output [{string.Join(", ", output.shape)}], finite {output.isfinite().all().item<bool>()}");
            Console.WriteLine($"fp32: {probe.Describe()}");
            Console.WriteLine($"model FLOP/s ÷ fp32 matmul FLOP/s = {flops / seconds / (probe.Median() * 1e9):F3}");
        }
        Console.WriteLine($"peak RSS (VmHWM) {ProcessMemory.Peak() / 1e9:F2} GB");
        Console.WriteLine($"load average at end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>
    /// Analytic FLOP (2·MAC) of the matmuls and attention a Lumina-Image 2.0 forward computes, padded slots included:
    /// the context refiner over the caption slots, the noise refiner over the image tokens, the main layers over the
    /// padded joint sequence, plus the embedders and the final layer.
    /// </summary>
    internal static double ForwardFlops(Lumina2Config c, int height, int width, int captionSlots, IReadOnlyList<int> captionLengths)
    {
        double batch = captionLengths.Count;
        double n = (double)(height / c.PatchSize) * (width / c.PatchSize);
        double joint = captionLengths.Max() + n;
        double d = c.Dim, hd = c.HeadDim, h = c.Heads, kv = c.KvHeadCount, cond = c.ConditionDim, ffn = c.FfnHiddenDim;
        double patch = c.PatchSize * c.PatchSize * c.InChannels;
        double Block(double tokens, bool modulated) =>
            batch * tokens * d * (h + 2 * kv) * hd            // qkv
            + batch * tokens * h * hd * d                     // out
            + batch * tokens * 3 * d * ffn                    // w1, w2, w3
            + batch * h * tokens * tokens * hd * 2            // QKᵀ and PV
            + (modulated ? batch * cond * 4 * d : 0);         // adaLN
        var macs = c.RefinerLayers * (Block(captionSlots, false) + Block(n, true)) + c.Layers * Block(joint, true)
                   + batch * n * patch * d                    // x_embedder
                   + batch * captionSlots * c.CaptionDim * d  // cap_embedder
                   + batch * (256 * cond + cond * cond)       // t_embedder
                   + batch * cond * d + batch * joint * d * patch; // final layer
        return 2 * macs;
    }
}
