using System.Text.Json.Nodes;
using Lumina.Tensors;

namespace Lumina.Testing;

/// <summary>
/// The reference tensors produced by the upstream Python code (<c>../shared/golden</c> beside the checkout).
/// Set LUMINA_GOLDEN to use another folder.
/// </summary>
public static class Golden
{
    private static readonly Lazy<string> Folder = new(Locate);

    /// <summary>The golden folder.</summary>
    public static string Directory => Folder.Value;

    /// <summary>The upstream <c>state_dict()</c> of a part, with upstream key names.</summary>
    public static string WeightsPath(string part) => Existing(Path.Combine(Directory, $"{part}.weights.safetensors"));

    /// <summary>The inputs and outputs of a part.</summary>
    public static string CasesPath(string part) => Existing(Path.Combine(Directory, $"{part}.cases.safetensors"));

    /// <summary>The config, calls and notes of a part.</summary>
    public static JsonNode Json(string part) =>
        JsonNode.Parse(File.ReadAllText(Existing(Path.Combine(Directory, $"{part}.json"))))
        ?? throw new InvalidDataException($"{part}.json is empty.");

    /// <summary>Opens a part's case file.</summary>
    public static SafetensorsFile OpenCases(string part) => SafetensorsFile.Open(CasesPath(part));

    /// <summary>Every part that has a weights file, by name.</summary>
    public static IReadOnlyList<string> Parts() =>
        System.IO.Directory.GetFiles(Directory, "*.weights.safetensors")
            .Select(p => Path.GetFileName(p)[..^".weights.safetensors".Length])
            .Order(StringComparer.Ordinal).ToList();

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"Golden file '{path}' is missing.", path);

    private static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("LUMINA_GOLDEN");
        if (!string.IsNullOrEmpty(fromEnv))
            return System.IO.Directory.Exists(fromEnv) ? fromEnv : throw new DirectoryNotFoundException($"LUMINA_GOLDEN='{fromEnv}' does not exist.");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "golden");
            if (System.IO.Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException(
            $"No shared/golden folder above '{AppContext.BaseDirectory}'. Put the golden files at ../shared/golden beside the checkout or set LUMINA_GOLDEN.");
    }
}
