using System.CommandLine;
using Lumina.Tensors;

namespace Lumina.Cli;

/// <summary><c>lumina info PATH</c>: what a checkpoint holds (tensors, dtypes, parameter count, metadata).</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A .safetensors file, a *.safetensors.index.json, or a folder holding one." };
        var all = new Option<bool>("--all") { Description = "List every tensor, not just the first 20." };
        var command = new Command("info", "Show what a checkpoint holds: tensors, dtypes, parameter count and metadata.") { path, all };
        command.SetAction(result => Run(result.GetValue(path)!, result.GetValue(all)));
        return command;
    }

    private static int Run(string path, bool all)
    {
        try
        {
            using var checkpoint = SafetensorsCheckpoint.Open(path);
            var tensors = checkpoint.Tensors;
            var parameters = tensors.Sum(t => t.ElementCount);
            var bytes = tensors.Sum(t => t.ByteLength);
            Console.WriteLine($"{checkpoint.SourcePath}");
            Console.WriteLine($"  files:      {checkpoint.Files.Count}");
            Console.WriteLine($"  tensors:    {tensors.Count}");
            Console.WriteLine($"  parameters: {parameters:N0}");
            Console.WriteLine($"  bytes:      {bytes:N0}");
            Console.WriteLine($"  dtypes:     {string.Join(", ", tensors.GroupBy(t => t.DType).Select(g => $"{g.Key} ×{g.Count()}"))}");
            foreach (var file in checkpoint.Files)
                foreach (var (key, value) in file.Metadata)
                    Console.WriteLine($"  metadata:   {key} = {value}");
            var shown = all ? tensors : tensors.Take(20).ToList();
            foreach (var t in shown)
                Console.WriteLine($"    {t}");
            if (shown.Count < tensors.Count)
                Console.WriteLine($"    … {tensors.Count - shown.Count} more (use --all)");
            return 0;
        }
        catch (Exception ex) when (ex is SafetensorsException or IOException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }
    }
}
