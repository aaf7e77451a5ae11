namespace Lumina.Training.Shapes;

/// <summary>
/// The colours of the procedural dataset: six shape colours and three background colours, chosen so every shape colour
/// is at least ~110 RGB units from every background (the analyser separates them by a threshold of 60).
/// </summary>
public static class ShapePalette
{
    /// <summary>Shape colours: red, orange, yellow, green, blue, purple.</summary>
    public static IReadOnlyList<NamedColor> ShapeColors { get; } =
    [
        new("red", 220, 40, 40),
        new("orange", 245, 140, 30),
        new("yellow", 240, 210, 40),
        new("green", 40, 170, 60),
        new("blue", 40, 80, 220),
        new("purple", 150, 40, 200),
    ];

    /// <summary>Background colours: white, black, gray.</summary>
    public static IReadOnlyList<NamedColor> BackgroundColors { get; } =
    [
        new("white", 245, 245, 245),
        new("black", 20, 20, 20),
        new("gray", 128, 128, 128),
    ];

    /// <summary>The palette entry nearest to (r, g, b).</summary>
    public static NamedColor Nearest(IReadOnlyList<NamedColor> palette, double r, double g, double b)
    {
        ArgumentNullException.ThrowIfNull(palette);
        if (palette.Count == 0) throw new ArgumentException("The palette is empty.", nameof(palette));
        var best = palette[0];
        var bestD = best.DistanceSquared(r, g, b);
        for (var i = 1; i < palette.Count; i++)
        {
            var d = palette[i].DistanceSquared(r, g, b);
            if (d < bestD) (best, bestD) = (palette[i], d);
        }
        return best;
    }

    /// <summary>Looks a colour up by name in either palette (case-insensitive), or null.</summary>
    public static NamedColor? Find(string name)
        => ShapeColors.Concat(BackgroundColors).FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
}
