using System.Diagnostics;
using TorchSharp;

namespace Lumina.Benchmarks;

/// <summary>
/// The shape of a loading bench: write a file into a temporary folder (or take an existing one), then measure
/// loading it in a fresh child process, so the peak resident memory belongs to the load alone. The child first
/// reads the file sequentially, which warms the page cache and gives the time a load is compared with.
/// </summary>
public abstract class FileLoadBench : IBenchCommand
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    /// <summary>The name of the file written into the temporary folder.</summary>
    protected abstract string FileName { get; }

    /// <summary>Writes the file to load (in the parent process).</summary>
    protected abstract void WriteFile(string path, string[] args);

    /// <summary>Loads the file and prints the figures (in the child process); returns the exit code.</summary>
    protected abstract int MeasureLoad(string path, TimeSpan sequentialRead);

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
            var path = Path.Combine(folder, FileName);
            var write = Stopwatch.StartNew();
            WriteFile(path, args);
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

    private int Child(string path)
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
        return MeasureLoad(path, sequential.Elapsed);
    }
}
