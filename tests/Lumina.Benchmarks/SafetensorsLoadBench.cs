using System.Diagnostics;
using Lumina.Tensors;
using TorchSharp;

namespace Lumina.Benchmarks;

/// <summary>
/// Writes a 1 GiB safetensors file, then loads every tensor in a fresh child process and reports how much the
/// peak resident memory grew relative to the bytes materialized (target ≤ 1.1×), and the load time relative to
/// a plain sequential read of the same file (page cache warm).
/// </summary>
public sealed class SafetensorsLoadBench : FileLoadBench
{
    public override string Name => "safetensors-load";

    public override string Description => "Peak RSS growth and time of loading a 1 GiB safetensors file (args: [MiB | existing file])";

    protected override string FileName => "big.safetensors";

    protected override void WriteFile(string path, string[] args)
    {
        var mib = args.Length > 0 ? int.Parse(args[0]) : 1024;
        const int count = 64;
        var elementsPerTensor = (long)mib * 1024 * 1024 / 4 / count;
        var tensors = Enumerable.Range(0, count).Select(i =>
            new KeyValuePair<string, torch.Tensor>($"layers.{i}.weight", torch.rand(elementsPerTensor / 1024, 1024))).ToList();
        try { SafetensorsWriter.Write(path, tensors); }
        finally { tensors.ForEach(t => t.Value.Dispose()); }
    }

    protected override int MeasureLoad(string path, TimeSpan sequentialRead)
    {
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
        var growth = ProcessMemory.Peak() - baseline;
        Console.WriteLine($"materialized {materialized / 1048576.0:F0} MiB in {loaded.Count} tensors");
        Console.WriteLine($"peak RSS growth {growth / 1048576.0:F0} MiB = {(double)growth / materialized:F3} x materialized bytes (target <= 1.10)");
        Console.WriteLine($"load {load.Elapsed.TotalSeconds:F2} s vs sequential read {sequentialRead.TotalSeconds:F2} s = {load.Elapsed.TotalSeconds / sequentialRead.TotalSeconds:F2} x");
        loaded.ForEach(t => t.Dispose());
        return (double)growth / materialized <= 1.10 ? 0 : 3;
    }
}
