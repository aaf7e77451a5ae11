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
public sealed class CheckpointLoad2BBench : FileLoadBench
{
    public override string Name => "checkpoint-load-2b";

    public override string Description => "Load a synthetic bf16 NextDiT-2B-GQA checkpoint into an fp32 model (args: [existing file])";

    protected override string FileName => "consolidated.00-of-01.safetensors";

    protected override void WriteFile(string path, string[] args)
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

    protected override int MeasureLoad(string path, TimeSpan sequentialRead)
    {
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
        Console.WriteLine($"build (random init) {build.Elapsed.TotalSeconds:F2} s; load {load.Elapsed.TotalSeconds:F2} s vs sequential read {sequentialRead.TotalSeconds:F2} s = {load.Elapsed.TotalSeconds / sequentialRead.TotalSeconds:F2} x (target <= 2)");
        return (double)growth / parameterBytes <= 1.15 ? 0 : 3;
    }
}
