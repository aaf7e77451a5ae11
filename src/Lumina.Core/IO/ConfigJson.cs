using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lumina.IO;

/// <summary>
/// The one JSON helper behind every <c>*Config</c>'s <c>FromJson</c>/<c>FromFile</c>/<c>ToJson</c>: reads the fields of a Hugging Face or
/// diffusers <c>config.json</c> with defaults for absent or null values, and writes one the same way.
/// </summary>
internal sealed class ConfigJson
{
    private readonly JsonObject _root;
    private readonly string _source;

    private ConfigJson(JsonObject root, string source)
    {
        _root = root;
        _source = source;
    }

    /// <summary>Parses JSON text; <paramref name="source"/> names it in error messages.</summary>
    public static ConfigJson Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var root = JsonNode.Parse(json) as JsonObject
                ?? throw new InvalidDataException($"{source} does not hold a JSON object.");
            return new ConfigJson(root, source);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Reads <c>config.json</c> from a file path or from a folder that holds it.</summary>
    public static ConfigJson Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"No config.json at '{path}'. Give the model folder or the config.json path.", file);
        }

        return Parse(File.ReadAllText(file), $"'{file}'");
    }

    /// <summary>
    /// Opens a config and builds a <typeparamref name="T"/> from it, turning any malformed, mistyped or inconsistent
    /// field into one <see cref="LuminaException"/> that names the source (a missing file stays a <see cref="FileNotFoundException"/>).
    /// </summary>
    public static T Read<T>(Func<ConfigJson> open, string source, Func<ConfigJson, T> build, Action<T>? validate = null)
    {
        try
        {
            var value = build(open());
            validate?.Invoke(value);
            return value;
        }
        catch (InvalidDataException e)
        {
            throw new LuminaException(e.Message, e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException and not ArgumentNullException)
        {
            throw new LuminaException($"{source}: {e.Message}", e);
        }
    }

    public string? ModelType => String("model_type", null);

    /// <summary>The raw field, for shapes the typed readers do not cover (null when absent).</summary>
    public JsonNode? this[string name] => _root[name];

    public int Int(string name, int fallback) =>
        Read(name, fallback, "an integer", (JsonValue v, out int n) =>
        {
            // JSON writers may emit whole numbers as 16.0.
            var ok = v.TryGetValue(out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue;
            n = ok ? (int)d : 0;
            return ok;
        });

    public int? NullableInt(string name) => _root[name] is null ? null : Int(name, 0);

    public double Double(string name, double fallback) => Read(name, fallback, "a number", (JsonValue v, out double d) => v.TryGetValue(out d));

    public double? NullableDouble(string name) => _root[name] is null ? null : Double(name, 0);

    public bool Bool(string name, bool fallback) => Read(name, fallback, "true or false", (JsonValue v, out bool b) => v.TryGetValue(out b));

    public string? String(string name, string? fallback) => Read(name, fallback, "a string", (JsonValue v, out string? t) => v.TryGetValue(out t));

    private delegate bool TryRead<T>(JsonValue value, out T result);

    /// <summary>The field <paramref name="name"/>, or <paramref name="fallback"/> when absent; anything else is an error naming the file and field.</summary>
    private T Read<T>(string name, T fallback, string expected, TryRead<T> tryRead)
    {
        var node = _root[name];
        if (node is null)
        {
            return fallback;
        }

        if (node is JsonValue v && tryRead(v, out var value))
        {
            return value;
        }

        throw new InvalidDataException($"{_source}: '{name}' must be {expected}, got {node.ToJsonString()}.");
    }

    public int[]? IntArray(string name) =>
        _root[name] is JsonArray a ? a.Select((x, i) => x is JsonValue v && v.TryGetValue(out int n) ? n
            : throw new InvalidDataException($"{_source}: '{name}'[{i}] must be an integer, got {x?.ToJsonString() ?? "null"}.")).ToArray() : null;

    /// <summary>The <c>_class_name</c> of a diffusers config; when present it must be <paramref name="expected"/>.</summary>
    public void RequireClassName(string expected, string what)
    {
        string? cls = String("_class_name", null);
        if (cls is not null && cls != expected)
        {
            throw new InvalidDataException($"{_source}: _class_name is '{cls}'; expected {expected} ({what}).");
        }
    }

    /// <summary>Indented JSON text of a config, as every <c>ToJson</c> writes it.</summary>
    public static string Write(JsonObject root) => root.ToJsonString(Indented);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public IReadOnlyList<string>? StringList(string name) =>
        _root[name] is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? string.Empty).ToList() : null;

    public JsonObject? Object(string name) => _root[name] as JsonObject;

    public void RequireModelType(params string[] accepted)
    {
        string? type = ModelType;
        if (type is not null && !accepted.Contains(type, StringComparer.Ordinal))
        {
            throw new InvalidDataException(
                $"{_source} has model_type '{type}', but this loader expects {string.Join(" or ", accepted.Select(a => $"'{a}'"))}. " +
                "Use the config class of that family.");
        }
    }

    public override string ToString() => _source.ToString(CultureInfo.InvariantCulture);
}
