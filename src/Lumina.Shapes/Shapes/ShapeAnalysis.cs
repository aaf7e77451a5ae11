namespace Lumina.Training.Shapes;

/// <summary>What <see cref="PromptAdherenceAnalyser"/> found in an image.</summary>
/// <param name="Background">Nearest background palette colour of the border.</param>
/// <param name="Found">Whether a shape (a foreground region large enough) was found; if not, the other fields are null.</param>
/// <param name="Color">Nearest shape palette colour of the region.</param>
/// <param name="Position">Region of the centroid.</param>
/// <param name="Shape">Shape from the fill ratio of the bounding box.</param>
/// <param name="FillRatio">Region pixels / bounding-box pixels.</param>
/// <param name="Pixels">Region size in pixels.</param>
/// <param name="CentroidX">Centroid x in pixels.</param>
/// <param name="CentroidY">Centroid y in pixels.</param>
public sealed record ShapeAnalysis(NamedColor Background, bool Found, NamedColor? Color, ShapePosition? Position, ShapeKind? Shape,
    double FillRatio, int Pixels, double CentroidX, double CentroidY)
{
    /// <summary>Compares with the intended scene.</summary>
    public ShapeAdherence Against(ShapeScene expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return new ShapeAdherence(
            Found && Color == expected.Color,
            Found && Position == expected.Position,
            Found && Shape == expected.Shape,
            Background == expected.Background);
    }
}

/// <summary>Which attributes of a scene an image got right.</summary>
/// <param name="Color">Shape colour right.</param>
/// <param name="Position">Position right.</param>
/// <param name="Shape">Shape right.</param>
/// <param name="Background">Background colour right.</param>
public sealed record ShapeAdherence(bool Color, bool Position, bool Shape, bool Background)
{
    /// <summary>All four right.</summary>
    public bool All => Color && Position && Shape && Background;
}

/// <summary>Accuracy per attribute over many images (0–1).</summary>
/// <param name="Count">Images scored.</param>
/// <param name="Color">Colour accuracy.</param>
/// <param name="Position">Position accuracy.</param>
/// <param name="Shape">Shape accuracy.</param>
/// <param name="Background">Background accuracy.</param>
public sealed record AdherenceSummary(int Count, double Color, double Position, double Shape, double Background)
{
    /// <summary>Summarises per-image results.</summary>
    public static AdherenceSummary From(IReadOnlyCollection<ShapeAdherence> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0) throw new ArgumentException("Score at least one image.", nameof(results));
        double n = results.Count;
        return new AdherenceSummary(results.Count, results.Count(r => r.Color) / n, results.Count(r => r.Position) / n,
            results.Count(r => r.Shape) / n, results.Count(r => r.Background) / n);
    }

    /// <inheritdoc />
    public override string ToString()
        => $"n={Count}: colour {Color:P1}, position {Position:P1}, shape {Shape:P1}, background {Background:P1}";
}
