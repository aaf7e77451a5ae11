namespace Lumina.Training.Shapes;

/// <summary>A palette colour: its English name and sRGB value.</summary>
/// <param name="Name">The word used in captions (for example "red").</param>
/// <param name="R">Red 0–255.</param>
/// <param name="G">Green 0–255.</param>
/// <param name="B">Blue 0–255.</param>
public sealed record NamedColor(string Name, byte R, byte G, byte B)
{
    /// <summary>Squared Euclidean RGB distance to (r, g, b).</summary>
    public double DistanceSquared(double r, double g, double b)
        => (R - r) * (R - r) + (G - g) * (G - g) + (B - b) * (B - b);

    /// <inheritdoc />
    public override string ToString() => Name;
}
