using System.Text.Json;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// A checkpoint that is either one safetensors file or several shards listed by a Hugging Face
/// <c>*.safetensors.index.json</c> (<c>{"weight_map": {tensor: shard file}}</c>). Tensors are read on demand from
/// whichever shard holds them.
/// </summary>
public sealed class SafetensorsCheckpoint : ITensorSource
{
    /// <summary>The file name suffix of a shard index.</summary>
    public const string IndexSuffix = ".safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _byName;

    private SafetensorsCheckpoint(string sourcePath, List<SafetensorsFile> files, Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)> byName)
    {
        SourcePath = sourcePath;
        _files = files;
        _byName = byName;
        Tensors = byName.Values.Select(v => v.Item2).OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public string SourcePath { get; }

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The files this checkpoint reads from (one, or one per shard).</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>
    /// Opens a checkpoint from a <c>.safetensors</c> file, a <c>*.safetensors.index.json</c> shard index, or a
    /// folder that holds exactly one of either.
    /// </summary>
    /// <exception cref="FileNotFoundException">The path, or a shard it names, does not exist.</exception>
    /// <exception cref="SafetensorsException">A file or the index is malformed.</exception>
    public static SafetensorsCheckpoint Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
            path = FindInFolder(path);
        if (path.EndsWith(IndexSuffix, StringComparison.OrdinalIgnoreCase))
            return OpenIndex(path);

        var file = SafetensorsFile.Open(path);
        return new SafetensorsCheckpoint(path, [file], file.Tensors.ToDictionary(t => t.Name, t => (file, t), StringComparer.Ordinal));
    }

    private static string FindInFolder(string folder)
    {
        var indexes = Directory.GetFiles(folder, "*" + IndexSuffix);
        if (indexes.Length == 1)
            return indexes[0];
        if (indexes.Length > 1)
            throw new ArgumentException($"Folder '{folder}' holds {indexes.Length} shard indexes ({string.Join(", ", indexes.Select(Path.GetFileName))}); name the one to load.", nameof(folder));
        var files = Directory.GetFiles(folder, "*.safetensors");
        return files.Length switch
        {
            1 => files[0],
            0 => throw new FileNotFoundException($"Folder '{folder}' holds no .safetensors file or shard index."),
            _ => throw new ArgumentException($"Folder '{folder}' holds {files.Length} .safetensors files and no shard index; name the file to load.", nameof(folder)),
        };
    }

    private static SafetensorsCheckpoint OpenIndex(string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var byName = new Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)>(StringComparer.Ordinal);
        try
        {
            foreach (var (tensor, shard) in weightMap)
            {
                if (!opened.TryGetValue(shard, out var file))
                {
                    var shardPath = Path.Combine(folder, shard);
                    if (!File.Exists(shardPath))
                        throw new FileNotFoundException($"Shard '{shard}' named by '{indexPath}' does not exist; download every shard the index lists.", shardPath);
                    file = SafetensorsFile.Open(shardPath);
                    opened.Add(shard, file);
                }
                if (!file.TryGetInfo(tensor, out var info))
                    throw new SafetensorsException(indexPath, $"the index maps '{SafetensorsHeader.Shorten(tensor)}' to '{shard}', which does not hold it.");
                byName.Add(tensor, (file, info));
            }
            return new SafetensorsCheckpoint(indexPath, opened.Values.ToList(), byName);
        }
        catch
        {
            foreach (var file in opened.Values)
                file.Dispose();
            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        var info = new FileInfo(indexPath);
        if (!info.Exists)
            throw new FileNotFoundException($"Shard index '{indexPath}' does not exist.", indexPath);
        if (info.Length > SafetensorsHeader.MaxHeaderLength)
            throw new SafetensorsException(indexPath, $"the shard index is {info.Length} bytes, over the {SafetensorsHeader.MaxHeaderLength}-byte limit.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(indexPath), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new SafetensorsException(indexPath, $"the shard index is not valid JSON ({ex.Message}).", ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafetensorsException(indexPath, "the shard index has no \"weight_map\" object.");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new SafetensorsException(indexPath, $"weight_map entry '{SafetensorsHeader.Shorten(entry.Name)}' must name a shard file.");
                var shard = entry.Value.GetString()!;
                if (!IsPlainRelativeFile(shard))
                    throw new SafetensorsException(indexPath, $"weight_map entry '{SafetensorsHeader.Shorten(entry.Name)}' names '{SafetensorsHeader.Shorten(shard)}', which is not a file beside the index.");
                if (!result.TryAdd(entry.Name, shard))
                    throw new SafetensorsException(indexPath, $"weight_map names '{SafetensorsHeader.Shorten(entry.Name)}' more than once.");
            }
            return result;
        }
    }

    /// <summary>Shard names must stay inside the index's folder: no roots, no "..", no empty segments.</summary>
    private static bool IsPlainRelativeFile(string name) =>
        name.Length > 0 && !Path.IsPathRooted(name) && name.IndexOf('\0') < 0
        && name.Split('/', '\\').All(segment => segment.Length > 0 && segment != "." && segment != "..");

    /// <inheritdoc />
    public bool TryGetInfo(string name, out SafetensorsTensorInfo info)
    {
        var found = _byName.TryGetValue(name, out var entry);
        info = entry.Info;
        return found;
    }

    /// <inheritdoc />
    public torch.Tensor Read(string name, torch.ScalarType? dtype = null, torch.Device? device = null) =>
        _byName.TryGetValue(name, out var entry)
            ? entry.File.Read(name, dtype, device)
            : throw new KeyNotFoundException($"Checkpoint '{SourcePath}' has no tensor named '{name}'.");

    /// <inheritdoc />
    public void ReadInto(string name, torch.Tensor destination)
    {
        if (!_byName.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"Checkpoint '{SourcePath}' has no tensor named '{name}'.");
        entry.File.ReadInto(name, destination);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var file in _files)
            file.Dispose();
    }
}
