using System.Diagnostics;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Benchmarks;

/// <summary>
/// Writes a synthetic NextDiT-2B-GQA checkpoint (random bf16 weights, upstream key names, about 3.25 GB), then in a
/// fresh child process builds the fp32 model and loads the file into it. Reports the peak resident memory growth
/// over the fp32 parameter bytes (target ≤ 1.15×, model construction included) and the load time over the time of
/// a sequential read of the same file, both with the page cache warm (target ≤ 2×).
/// </summary>
public sealed class CheckpointLoad2BBench : IBenchCommand
{
    public string Name => "checkpoint-load-2b";

    public string Description => "Load a synthetic bf16 NextDiT-2B-GQA checkpoint into an fp32 model (args: [existing file])";

    public int Run(string[] args)
    {
        if (args.Length >= 2 && args[0] == "--child")
            return Child(args[1]);

        if (args.Length == 1 && File.Exists(args[0]))
            return RunChild(args[0]);

        var folder = Path.Combine(Path.GetTempPath(), $"lumina-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "consolidated.00-of-01.safetensors");
            var write = Stopwatch.StartNew();
            WriteSyntheticCheckpoint(path);
            Console.WriteLine($"wrote {new FileInfo(path).Length / 1e9:F2} GB in {write.Elapsed.TotalSeconds:F1} s: {path}");
            return RunChild(path);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private int RunChild(string path)
    {
        var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, [Name, "--child", path]) { UseShellExecute = false })!;
        child.WaitForExit();
        return child.ExitCode;
    }

    private static void WriteSyntheticCheckpoint(string path)
    {
        // The layout comes from the model itself, built on the meta device (no memory).
        using var layout = new NextDiT(DiTPresets.NextDiT2BGqa, new torch.Device("meta"));
        var generator = new torch.Generator(7);
        var tensors = layout.state_dict()
            .Select(kv => new KeyValuePair<string, torch.Tensor>(kv.Key,
                (torch.randn(kv.Value.shape, generator: generator) * 0.02).to(torch.bfloat16)))
            .ToList();
        try { SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" }); }
        finally { tensors.ForEach(t => t.Value.Dispose()); }
    }

    private static int Child(string path)
    {
        using (var warm = torch.ones(4)) { _ = warm.sum().item<float>(); }

        var buffer = new byte[8 << 20];
        var sequential = Stopwatch.StartNew();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            while (stream.Read(buffer) > 0) { }
        sequential.Stop();
        buffer = null;
        GC.Collect();

        ProcessMemory.ResetPeak();
        var baseline = ProcessMemory.Resident();
        var build = Stopwatch.StartNew();
        using var model = new NextDiT(DiTPresets.NextDiT2BGqa, torch.CPU, torch.float32);
        build.Stop();
        var parameterBytes = model.parameters().Sum(p => p.numel() * p.element_size());
        var afterBuild = ProcessMemory.Peak() - baseline;

        var load = Stopwatch.StartNew();
        var report = model.LoadSafetensors(path);
        load.Stop();
        var growth = ProcessMemory.Peak() - baseline;

        Console.WriteLine($"loaded {report.Loaded.Count} tensors, {parameterBytes / 1e9:F2} GB of fp32 parameters");
        Console.WriteLine($"peak RSS growth: after building the model {afterBuild / 1e9:F2} GB, after loading {growth / 1e9:F2} GB = {(double)growth / parameterBytes:F3} x fp32 parameter bytes (target <= 1.15)");
        Console.WriteLine($"build (random init) {build.Elapsed.TotalSeconds:F2} s; load {load.Elapsed.TotalSeconds:F2} s vs sequential read {sequential.Elapsed.TotalSeconds:F2} s = {load.Elapsed.TotalSeconds / sequential.Elapsed.TotalSeconds:F2} x (target <= 2)");
        return 0;
    }
}
