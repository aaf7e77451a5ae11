using System.Globalization;

namespace Lumina.Training.Shapes;

/// <summary>One image of the procedural dataset: a coloured shape at a position on a plain background.</summary>
/// <param name="Shape">The shape.</param>
/// <param name="Color">Its colour (from <see cref="ShapePalette.ShapeColors"/>).</param>
/// <param name="Position">Where it sits.</param>
/// <param name="Background">Background colour (from <see cref="ShapePalette.BackgroundColors"/>).</param>
/// <param name="Scale">Shape size as a fraction of the image side (0.30–0.42 in the dataset).</param>
/// <param name="JitterX">Horizontal offset as a fraction of the image side (±0.03 in the dataset).</param>
/// <param name="JitterY">Vertical offset as a fraction of the image side (±0.03 in the dataset).</param>
/// <param name="Template">Which caption wording (0–2).</param>
public sealed record ShapeScene(ShapeKind Shape, NamedColor Color, ShapePosition Position, NamedColor Background,
    double Scale = 0.38, double JitterX = 0, double JitterY = 0, int Template = 0)
{
    /// <summary>The English caption, for example "a red circle on the left on a white background".</summary>
    public string Caption
    {
        get
        {
            var shape = Shape.ToString().ToLowerInvariant();
            var where = PositionPhrase(Position);
            return Template switch
            {
                1 => string.Create(CultureInfo.InvariantCulture, $"a {Color.Name} {shape} {where}, {Background.Name} background"),
                2 => string.Create(CultureInfo.InvariantCulture, $"{Background.Name} background with a {Color.Name} {shape} {where}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"a {Color.Name} {shape} {where} on a {Background.Name} background"),
            };
        }
    }

    /// <summary>The words used for a position ("on the left", "at the top", "in the center", …).</summary>
    public static string PositionPhrase(ShapePosition position) => position switch
    {
        ShapePosition.Left => "on the left",
        ShapePosition.Right => "on the right",
        ShapePosition.Top => "at the top",
        ShapePosition.Bottom => "at the bottom",
        _ => "in the center",
    };

    /// <summary>
    /// Reads a caption written by <see cref="Caption"/> (any template) back into a scene with default size and no
    /// jitter, or null when the text names no known colour, shape, position and background.
    /// </summary>
    public static ShapeScene? TryParse(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var text = caption.ToLowerInvariant();
        var words = text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
        var bgIndex = Array.IndexOf(words, "background");
        if (bgIndex < 1) return null;
        var background = ShapePalette.BackgroundColors.FirstOrDefault(c => c.Name == words[bgIndex - 1]);
        ShapeKind? shape = null;
        var shapeIndex = -1;
        for (var i = 0; i < words.Length; i++)
        {
            if (Enum.TryParse<ShapeKind>(words[i], ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(words[i], out _)) { shape = k; shapeIndex = i; break; }
        }
        if (background is null || shape is null || shapeIndex < 1) return null;
        var color = ShapePalette.ShapeColors.FirstOrDefault(c => c.Name == words[shapeIndex - 1]);
        ShapePosition? position = Enum.GetValues<ShapePosition>().Where(p => text.Contains(PositionPhrase(p), StringComparison.Ordinal)).Select(p => (ShapePosition?)p).FirstOrDefault();
        if (color is null || position is null) return null;
        return new ShapeScene(shape.Value, color, position.Value, background);
    }
}
