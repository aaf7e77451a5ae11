using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumina.Checkpoints;

/// <summary>
/// One entry of <c>model_index.json</c>: the library and class of a component (<c>["diffusers", "AutoencoderKL"]</c>),
/// or <c>[null, null]</c> for a component the pipeline runs without (a pixel-space model's VAE).
/// </summary>
/// <param name="Library">The Python library (<c>diffusers</c>, <c>transformers</c>); null for an absent component.</param>
/// <param name="ClassName">The class in that library; null for an absent component.</param>
public sealed record DiffusersComponent(string? Library, string? ClassName)
{
    /// <summary>The <c>[null, null]</c> entry: the pipeline has no such component.</summary>
    public static DiffusersComponent None { get; } = new(null, null);

    /// <summary>True for <c>[null, null]</c>.</summary>
    public bool IsNone => Library is null && ClassName is null;
}

/// <summary>
/// diffusers' <c>model_index.json</c>: the pipeline class and one <see cref="DiffusersComponent"/> per component folder.
/// Keys starting with <c>_</c> other than <c>_class_name</c> and <c>_diffusers_version</c> are kept in
/// <see cref="Extra"/> so a round trip writes them back.
/// </summary>
public sealed record DiffusersModelIndex
{
    /// <summary>The pipeline class (<c>_class_name</c>), e.g. <c>LuminaText2ImgPipeline</c>.</summary>
    public string? PipelineClass { get; init; }

    /// <summary><c>_diffusers_version</c> (written as 0.30.0 when unset).</summary>
    public string DiffusersVersion { get; init; } = "0.30.0";

    /// <summary>The components by folder name (<c>transformer</c>, <c>vae</c>, <c>text_encoder</c>, …), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, DiffusersComponent>> Components { get; init; } = [];

    /// <summary>Other keys of the file (values kept as JSON text), written back unchanged.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];

    /// <summary>The entry of <paramref name="name"/>, or null when the index does not name it.</summary>
    public DiffusersComponent? Component(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (key, value) in Components)
            if (key == name) return value;
        return null;
    }

    /// <summary>Parses the JSON text of a <c>model_index.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="LuminaException">The text is not a JSON object, or an entry is malformed.</exception>
    public static DiffusersModelIndex FromJson(string json, string source = DiffusersFolder.ModelIndexFile)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new LuminaException($"{source}: model_index.json must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new LuminaException($"{source} is not valid JSON ({e.Message}).", e);
        }
        string? pipelineClass = null;
        var version = "0.30.0";
        var components = new List<KeyValuePair<string, DiffusersComponent>>();
        var extra = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in root)
        {
            if (key == "_class_name") pipelineClass = Text(value, key, source);
            else if (key == "_diffusers_version") version = Text(value, key, source) ?? version;
            else if (!key.StartsWith('_') && value is JsonArray { Count: 2 } pair)
                components.Add(new(key, new DiffusersComponent(Text(pair[0], key, source), Text(pair[1], key, source))));
            else extra.Add(new(key, value?.ToJsonString() ?? "null"));
        }
        return new DiffusersModelIndex { PipelineClass = pipelineClass, DiffusersVersion = version, Components = components, Extra = extra };
    }

    /// <summary>Reads <c>model_index.json</c> from a file, or from the folder that holds it.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static DiffusersModelIndex FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = Directory.Exists(path) ? Path.Combine(path, DiffusersFolder.ModelIndexFile) : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"No {DiffusersFolder.ModelIndexFile} at '{path}'.", file);
        return FromJson(File.ReadAllText(file), file);
    }

    /// <summary>The file's JSON text (indented, keys in diffusers' order: class, version, components, extra).</summary>
    public string ToJson()
    {
        var root = new JsonObject { ["_class_name"] = PipelineClass, ["_diffusers_version"] = DiffusersVersion };
        foreach (var (name, c) in Components) root[name] = new JsonArray(c.Library, c.ClassName);
        foreach (var (key, json) in Extra) root[key] = JsonNode.Parse(json);
        return root.ToJsonString(DiffusersFolder.Indented);
    }

    private static string? Text(JsonNode? node, string key, string source) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new LuminaException($"{source}: '{key}' must hold strings or nulls, got {node.ToJsonString()}."),
    };
}

/// <summary>
/// The diffusers folder layout: <c>model_index.json</c> beside one folder per component (<c>transformer/</c>,
/// <c>vae/</c>, <c>text_encoder/</c>, <c>tokenizer/</c>, <c>scheduler/scheduler_config.json</c>). The one reader and
/// writer of the layout: loaders, <c>SavePretrained</c>, the demo exporter and the test fixtures all go through it.
/// </summary>
public static class DiffusersFolder
{
    /// <summary><c>model_index.json</c>.</summary>
    public const string ModelIndexFile = "model_index.json";

    /// <summary>The scheduler component's folder.</summary>
    public const string SchedulerFolder = "scheduler";

    /// <summary>The scheduler config inside <see cref="SchedulerFolder"/>.</summary>
    public const string SchedulerConfigFile = "scheduler_config.json";

    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>True when <paramref name="folder"/> holds a <c>model_index.json</c>.</summary>
    public static bool IsDiffusersFolder(string folder) =>
        !string.IsNullOrEmpty(folder) && File.Exists(Path.Combine(folder, ModelIndexFile));

    /// <summary>The scheduler config path of a folder when the file exists, else null.</summary>
    public static string? SchedulerConfigPath(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var path = Path.Combine(folder, SchedulerFolder, SchedulerConfigFile);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Finds <c>{stem}.safetensors</c> or <c>{stem}.safetensors.index.json</c> in a folder.</summary>
    public static string? WeightsIn(string folder, string stem)
    {
        ArgumentNullException.ThrowIfNull(stem);
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder)) return null;
        return new[] { $"{stem}.safetensors", $"{stem}.safetensors.index.json" }
            .Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// Writes a diffusers folder: <paramref name="index"/> as <c>model_index.json</c>, and each component by its writer,
    /// which gets the component's (created) folder. Every component named in the index with a non-null entry must have a
    /// writer. The folder is assembled beside the target and moved into place, so a failure never leaves half a model.
    /// </summary>
    /// <param name="folder">The target folder. It must not exist, or be empty, unless <paramref name="overwrite"/> is set.</param>
    /// <param name="index">The <c>model_index.json</c> contents.</param>
    /// <param name="components">Component folder name → writer of its files.</param>
    /// <param name="overwrite">Replace an existing diffusers folder (one that holds <c>model_index.json</c>); any other non-empty folder is refused.</param>
    /// <param name="cancellationToken">Checked between components.</param>
    /// <exception cref="IOException">The target exists and may not be replaced.</exception>
    public static void Write(string folder, DiffusersModelIndex index, IReadOnlyDictionary<string, Action<string>> components,
        bool overwrite = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(components);
        foreach (var (name, entry) in index.Components)
            if (!entry.IsNone && !components.ContainsKey(name))
                throw new ArgumentException($"model_index.json names component '{name}' but no writer for it was given.", nameof(components));
        foreach (var name in components.Keys)
            if (index.Component(name) is null)
                throw new ArgumentException($"A writer was given for '{name}', which model_index.json does not name; add it to the index.", nameof(components));

        var target = Path.GetFullPath(folder);
        var exists = Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any();
        if (File.Exists(target)) throw new IOException($"'{target}' is a file; give a folder path.");
        if (exists && !overwrite)
            throw new IOException($"'{target}' already exists and is not empty; choose a new folder or pass overwrite: true.");
        if (exists && !IsDiffusersFolder(target))
            throw new IOException($"'{target}' is not a diffusers folder (no {ModelIndexFile}); refusing to replace it. Choose an empty or new folder.");
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{folder}' has no parent folder.", nameof(folder));
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            Directory.CreateDirectory(staging);
            File.WriteAllText(Path.Combine(staging, ModelIndexFile), index.ToJson());
            foreach (var (name, write) in components)
            {
                cancellationToken.ThrowIfCancellationRequested();
                write(Directory.CreateDirectory(Path.Combine(staging, name)).FullName);
            }
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>A writer that copies every file of <paramref name="source"/> (not recursive) into the component folder.</summary>
    public static Action<string> CopyFrom(string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (!Directory.Exists(source)) throw new DirectoryNotFoundException($"'{source}' does not exist.");
        return dir =>
        {
            foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        };
    }

    /// <summary>A writer that writes <paramref name="json"/> as <paramref name="fileName"/> in the component folder.</summary>
    public static Action<string> JsonFile(string fileName, string json)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(json);
        return dir => File.WriteAllText(Path.Combine(dir, fileName), json);
    }
}
