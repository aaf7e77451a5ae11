using System.Globalization;
using Lumina.Solvers;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;

namespace Lumina.Pipelines;

/// <summary>
/// How an image was made, stored in its PNG text chunks so that the file itself tells how to reproduce it. Keys:
/// <c>prompt</c>, <c>negative_prompt</c>, <c>seed</c>, <c>steps</c>, <c>solver</c>, <c>shift</c>, <c>guidance</c>,
/// <c>model</c>, <c>width</c>, <c>height</c>, <c>scale_factor</c>, <c>strength</c> and <c>loras</c> (only when set) and
/// <c>Software</c>.
/// </summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="NegativePrompt">The negative prompt.</param>
/// <param name="Seed">The noise seed of this image.</param>
/// <param name="Steps">Solver steps.</param>
/// <param name="Solver">ODE solver.</param>
/// <param name="TimeShift">Grid time shift.</param>
/// <param name="GuidanceScale">Classifier-free guidance scale.</param>
/// <param name="ModelId">Repo id or folder the weights came from.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="ScaleFactor">Time-aware RoPE scale factor, if any.</param>
/// <param name="Strength">img2img strength, if the image was edited from another.</param>
/// <param name="Loras">The LoRAs applied, in load order, as <c>file name:strength</c> joined by <c>", "</c> (as
/// <c>lumina generate --lora</c> takes them), if any.</param>
public sealed record GenerationMetadata(
    string Prompt, string NegativePrompt, long Seed, int Steps, OdeMethod Solver, double TimeShift, double GuidanceScale,
    string ModelId, int Width, int Height, double? ScaleFactor = null, double? Strength = null, string? Loras = null)
{
    /// <summary>The value of the PNG <c>Software</c> chunk.</summary>
    public const string Software = "Lumina.NET";

    /// <summary>The metadata of one output sampled with <paramref name="settings"/> (resolved: width and height set).</summary>
    /// <remarks>The recorded shift is the one the run sampled with: <see cref="SamplingSettings.TimeShiftFor"/> of its
    /// <paramref name="tokens"/> (dynamic shifting makes it depend on the size).</remarks>
    internal static GenerationMetadata For(SamplingSettings settings, int tokens, string prompt, long seed, string modelId, double? scaleFactor = null,
        double? strength = null, string? loras = null) =>
        new(prompt, settings.NegativePrompt, seed, settings.NumInferenceSteps, settings.Solver, settings.TimeShiftFor(tokens), settings.GuidanceScale,
            modelId, settings.Width!.Value, settings.Height!.Value, scaleFactor, strength, loras);

    /// <summary>The key/value pairs written as PNG text chunks.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToTextChunks()
    {
        var inv = CultureInfo.InvariantCulture;
        var list = new List<KeyValuePair<string, string>>
        {
            new("prompt", Prompt),
            new("negative_prompt", NegativePrompt),
            new("seed", Seed.ToString(inv)),
            new("steps", Steps.ToString(inv)),
            new("solver", Solver.ToString().ToLowerInvariant()),
            new("shift", TimeShift.ToString("R", inv)),
            new("guidance", GuidanceScale.ToString("R", inv)),
            new("model", ModelId),
            new("width", Width.ToString(inv)),
            new("height", Height.ToString(inv)),
            new("Software", Software),
        };
        if (ScaleFactor is { } s) list.Add(new("scale_factor", s.ToString("R", inv)));
        if (Strength is { } st) list.Add(new("strength", st.ToString("R", inv)));
        if (!string.IsNullOrEmpty(Loras)) list.Add(new("loras", Loras));
        return list;
    }

    /// <summary>Writes the chunks into <paramref name="image"/>'s PNG metadata (replacing earlier Lumina chunks).</summary>
    public void WriteTo(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var png = image.Metadata.GetPngMetadata();
        var chunks = ToTextChunks();
        var keys = chunks.Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        for (var i = png.TextData.Count - 1; i >= 0; i--)
            if (keys.Contains(png.TextData[i].Keyword)) png.TextData.RemoveAt(i);
        foreach (var (key, value) in chunks) png.TextData.Add(new PngTextData(key, value, string.Empty, string.Empty));
    }

    /// <summary>
    /// Reads the metadata back from an image loaded from a PNG written by Lumina.NET; null when the chunks are missing
    /// or malformed.
    /// </summary>
    public static GenerationMetadata? ReadFrom(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var text = image.Metadata.GetPngMetadata().TextData
            .GroupBy(t => t.Keyword, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        var inv = CultureInfo.InvariantCulture;
        string? Get(string key) => text.TryGetValue(key, out var v) ? v : null;
        if (Get("prompt") is not { } prompt || Get("model") is not { } model) return null;
        if (!long.TryParse(Get("seed"), NumberStyles.Integer, inv, out var seed)) return null;
        if (!int.TryParse(Get("steps"), NumberStyles.Integer, inv, out var steps)) return null;
        if (!Enum.TryParse<OdeMethod>(Get("solver"), ignoreCase: true, out var solver)) return null;
        if (!double.TryParse(Get("shift"), NumberStyles.Float, inv, out var shift)) return null;
        if (!double.TryParse(Get("guidance"), NumberStyles.Float, inv, out var guidance)) return null;
        if (!int.TryParse(Get("width"), NumberStyles.Integer, inv, out var width)) return null;
        if (!int.TryParse(Get("height"), NumberStyles.Integer, inv, out var height)) return null;
        double? scale = double.TryParse(Get("scale_factor"), NumberStyles.Float, inv, out var s) ? s : null;
        double? strength = double.TryParse(Get("strength"), NumberStyles.Float, inv, out var st) ? st : null;
        return new GenerationMetadata(prompt, Get("negative_prompt") ?? "", seed, steps, solver, shift, guidance, model, width, height, scale, strength,
            string.IsNullOrEmpty(Get("loras")) ? null : Get("loras"));
    }
}
