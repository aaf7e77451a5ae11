using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Lumina.Models.Autoencoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Benchmarks;

/// <summary>
/// Peak memory of a tiled versus an untiled SDXL-VAE decode of a 128×512 latent (a 1024×4096 image), random weights.
/// Each decode runs in a fresh child process, which resets its peak-RSS counter (VmHWM, via /proc/self/clear_refs)
/// after building the model, so the two peaks are measured the same way and do not see each other.
/// </summary>
public sealed class VaeTilingBench : IBenchCommand
{
    /// <inheritdoc />
    public string Name => "vae-tiling";

    /// <inheritdoc />
    public string Description => "Peak RSS of tiled vs untiled SDXL-VAE decode of a 128x512 latent (each in a child process). Args: [--latent HxW] [--tile PX] [--modes tiled,untiled,tiled-independent]";

    private static readonly string[] AllModes = ["tiled", "tiled-independent", "untiled"];

    /// <inheritdoc />
    public int Run(string[] args)
    {
        var latent = Arg(args, "--latent") ?? "128x512";
        var tile = int.Parse(Arg(args, "--tile") ?? "1024", CultureInfo.InvariantCulture);
        var child = Arg(args, "--child");
        if (child is not null) return RunChild(child, latent, tile);

        var modes = (Arg(args, "--modes") ?? "tiled,untiled").Split(',', StringSplitOptions.RemoveEmptyEntries);
        if (modes.Any(m => !AllModes.Contains(m)))
        {
            Console.Error.WriteLine($"Unknown mode in '{string.Join(",", modes)}'; choose from {string.Join(", ", AllModes)}.");
            return 2;
        }
        Console.WriteLine($"SDXL VAE (83.65 M params, random weights), latent {latent}, tiles of {tile} px, fp32, {torch.get_num_threads()} torch threads");
        Console.WriteLine($"{"mode",-18} {"peak RSS MB",12} {"RSS before MB",14} {"peak - before",14} {"seconds",9} tiles");
        var peaks = new Dictionary<string, double>();
        foreach (var mode in modes)
        {
            var result = Spawn(mode, latent, tile);
            if (result is null) return 1;
            peaks[mode] = result.Value.Peak;
            Console.WriteLine($"{mode,-18} {result.Value.Peak,12:F0} {result.Value.Before,14:F0} {result.Value.Peak - result.Value.Before,14:F0} {result.Value.Seconds,9:F1} {result.Value.Tiles}");
        }
        if (peaks.TryGetValue("tiled", out var tiled) && peaks.TryGetValue("untiled", out var untiled))
        {
            Console.WriteLine($"tiled / untiled peak = {tiled / untiled:F3} ({(tiled < untiled / 2 ? "below" : "NOT below")} one half)");
            return tiled < untiled / 2 ? 0 : 1;
        }
        return 0;
    }

    private static (double Peak, double Before, double Seconds, int Tiles)? Spawn(string mode, string latent, int tile)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        // A fixed mmap threshold: glibc otherwise raises it after large frees, and heap fragmentation then inflates
        // RSS by an amount that depends on the allocation pattern rather than on what is live.
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "1048576";
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "vae-tiling", "--child", mode, "--latent", latent, "--tile", tile.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string? resultLine = null;
        while (process.StandardOutput.ReadLine() is { } line)
            if (line.StartsWith("RESULT ", StringComparison.Ordinal)) resultLine = line;
        process.WaitForExit();
        if (process.ExitCode != 0 || resultLine is null)
        {
            Console.Error.WriteLine($"child '{mode}' failed with exit code {process.ExitCode}.");
            return null;
        }
        var parts = resultLine.Split(' ');
        double P(int i) => double.Parse(parts[i], CultureInfo.InvariantCulture);
        return (P(1), P(2), P(3), (int)P(4));
    }

    private static int RunChild(string mode, string latent, int tile)
    {
        var dims = latent.Split('x').Select(int.Parse).ToArray();
        using var vae = new AutoencoderKL(AutoencoderKLConfig.SdxlVae);
        vae.eval();
        using var z = randn([1, 4, dims[0], dims[1]], generator: new Generator(0));
        var options = mode switch
        {
            "untiled" => VaeTilingOptions.Disabled,
            "tiled" => new VaeTilingOptions { Enabled = true, TileSize = tile },
            _ => new VaeTilingOptions { Enabled = true, TileSize = tile, WholeImageStatistics = false },
        };
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM to the current RSS
        var before = StatusMb("VmRSS");
        var tiles = 0;
        var sw = Stopwatch.StartNew();
        using (var image = vae.Decode(z, options, new Progress(p =>
               {
                   tiles = p.Total;
                   Console.Error.WriteLine($"  {mode}: tile {p.Completed}/{p.Total} at {sw.Elapsed.TotalSeconds:F0} s, VmHWM {StatusMb("VmHWM"):F0} MB");
               })))
        {
            if (image.shape[2] != dims[0] * 8 || image.shape[3] != dims[1] * 8) throw new InvalidOperationException("Wrong output size.");
        }
        var seconds = sw.Elapsed.TotalSeconds;
        var peak = StatusMb("VmHWM");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {peak:F1} {before:F1} {seconds:F2} {tiles}"));
        return 0;
    }

    private static double StatusMb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return double.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        throw new InvalidOperationException($"/proc/self/status has no {field}.");
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    // Synchronous progress: IProgress<T> from System would post to the thread pool.
    private sealed class Progress(Action<(int Completed, int Total)> report) : IProgress<(int Completed, int Total)>
    {
        public void Report((int Completed, int Total) value) => report(value);
    }
}
