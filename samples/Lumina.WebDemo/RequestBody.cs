using System.Text.Json;

namespace Lumina.WebDemo;

/// <summary>
/// Reads a <see cref="DemoRequest"/> from a request body by hand, so every malformed body (not JSON, truncated,
/// <c>null</c>, an array, a field of the wrong type, a fraction or an out-of-range number, too large) is a 400 with
/// the documented <c>{error, field}</c> JSON rather than an empty answer.
/// </summary>
public static class RequestBody
{
    /// <summary>The largest body accepted, in bytes.</summary>
    public const int MaxBytes = 16 * 1024;

    /// <summary>The longest prompt accepted, in UTF-8 bytes (the demo's text encoders read far fewer tokens).</summary>
    public const int MaxPromptBytes = 2000;

    /// <summary>Parses <paramref name="request"/>'s body.</summary>
    /// <exception cref="BadBodyException">The body is not a valid request; the exception names the field.</exception>
    public static async Task<DemoRequest> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
            throw new BadBodyException($"The body is larger than {MaxBytes} bytes.", null);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
                throw new BadBodyException($"The body is larger than {MaxBytes} bytes.", null);
            buffer.Write(chunk, 0, read);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new BadBodyException($"The body is not valid JSON ({e.Message.Split('.')[0]}).", null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new BadBodyException($"The body must be a JSON object such as {{\"prompt\": \"a red circle\"}}; got {Kind(root)}.", null);
            string? prompt = null;
            int? width = null, height = null, steps = null;
            long? seed = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "prompt":
                        prompt = property.Value.ValueKind switch
                        {
                            JsonValueKind.String => property.Value.GetString(),
                            JsonValueKind.Null => null,
                            _ => throw new BadBodyException($"prompt must be a string; got {Kind(property.Value)}.", "prompt"),
                        };
                        if (prompt is not null && System.Text.Encoding.UTF8.GetByteCount(prompt) > MaxPromptBytes)
                            throw new BadBodyException($"prompt is longer than {MaxPromptBytes} bytes.", "prompt");
                        break;
                    case "width": width = Int(property); break;
                    case "height": height = Int(property); break;
                    case "steps": steps = Int(property); break;
                    case "seed":
                        if (property.Value.ValueKind == JsonValueKind.Null) break;
                        if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out var s))
                            throw new BadBodyException($"seed must be a whole number between {long.MinValue} and {long.MaxValue}; got {property.Value.GetRawText()}.", "seed");
                        seed = s;
                        break;
                }
            }

            return new DemoRequest(prompt, width, height, steps, seed);
        }
    }

    private static int? Int(JsonProperty property)
    {
        if (property.Value.ValueKind == JsonValueKind.Null)
            return null;
        if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out var v))
            throw new BadBodyException($"{property.Name} must be a whole number; got {Truncate(property.Value.GetRawText())}.", property.Name);
        return v;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Null => "null",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "an object",
    };

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>A request body that is not a valid request.</summary>
public sealed class BadBodyException(string message, string? field) : Exception(message)
{
    /// <summary>The field at fault, or null when the body as a whole is.</summary>
    public string? Field { get; } = field;
}
