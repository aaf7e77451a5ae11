using System.Diagnostics;
using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Benchmarks;

/// <summary>
/// Writes a 1 GiB safetensors file, then loads every tensor in a fresh child process and reports how much the
/// peak resident memory grew relative to the bytes materialized (target ≤ 1.1×), and the load time relative to
/// a plain sequential read of the same file (page cache warm).
/// </summary>
public sealed class SafetensorsLoadBench : IBenchCommand
{
    public string Name => "safetensors-load";

    public string Description => "Peak RSS growth and time of loading a 1 GiB safetensors file (args: [MiB])";

    public int Run(string[] args)
    {
        if (args.Length >= 2 && args[0] == "--child")
            return Child(args[1]);

        var mib = args.Length > 0 ? int.Parse(args[0]) : 1024;
        var folder = Path.Combine(Path.GetTempPath(), $"lumina-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "big.safetensors");
            WriteFile(path, mib);
            Console.WriteLine($"wrote {new FileInfo(path).Length / (1024.0 * 1024):F0} MiB to {path}");
            var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["safetensors-load", "--child", path]) { UseShellExecute = false })!;
            child.WaitForExit();
            return child.ExitCode;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void WriteFile(string path, int mib)
    {
        // 64 tensors of mixed shapes; generated one at a time by the writer's caller, so the parent stays small.
        const int count = 64;
        var elementsPerTensor = (long)mib * 1024 * 1024 / 4 / count;
        var tensors = Enumerable.Range(0, count).Select(i =>
            new KeyValuePair<string, torch.Tensor>($"layers.{i}.weight", torch.rand(elementsPerTensor / 1024, 1024))).ToList();
        try { SafetensorsWriter.Write(path, tensors); }
        finally { tensors.ForEach(t => t.Value.Dispose()); }
    }

    private static int Child(string path)
    {
        using (var warm = torch.ones(4)) { _ = warm.sum().item<float>(); }

        // Sequential read of the whole file, to warm the page cache and time the disk path.
        var buffer = new byte[8 << 20];
        var sequential = Stopwatch.StartNew();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            while (stream.Read(buffer) > 0) { }
        sequential.Stop();
        buffer = null;
        GC.Collect();

        ProcessMemory.ResetPeak();
        var baseline = ProcessMemory.Resident();
        var load = Stopwatch.StartNew();
        var loaded = new List<torch.Tensor>();
        long materialized = 0;
        using (var file = SafetensorsFile.Open(path))
        {
            foreach (var info in file.Tensors)
            {
                var t = file.Read(info.Name);
                materialized += t.numel() * t.element_size();
                loaded.Add(t);
            }
        }
        load.Stop();
        var peak = ProcessMemory.Peak();
        var growth = peak - baseline;
        Console.WriteLine($"materialized {materialized / 1048576.0:F0} MiB in {loaded.Count} tensors");
        Console.WriteLine($"peak RSS growth {growth / 1048576.0:F0} MiB = {(double)growth / materialized:F3} x materialized bytes (target <= 1.10)");
        Console.WriteLine($"load {load.Elapsed.TotalSeconds:F2} s vs sequential read {sequential.Elapsed.TotalSeconds:F2} s = {load.Elapsed.TotalSeconds / sequential.Elapsed.TotalSeconds:F2} x");
        loaded.ForEach(t => t.Dispose());
        return (double)growth / materialized <= 1.10 ? 0 : 3;
    }
}
