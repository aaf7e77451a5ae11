namespace Lumina.Training.Shapes;

/// <summary>Draws a <see cref="ShapeScene"/> with hard edges (a pixel is inside when its centre is).</summary>
public static class ShapeRenderer
{
    /// <summary>Offset of a non-centre position from the image centre, as a fraction of the side.</summary>
    public const double PositionOffset = 0.25;

    /// <summary>The shape's centre in pixels for an image of side <paramref name="size"/>.</summary>
    public static (double X, double Y) Centre(ShapeScene scene, int size)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var (dx, dy) = scene.Position switch
        {
            ShapePosition.Left => (-PositionOffset, 0.0),
            ShapePosition.Right => (PositionOffset, 0.0),
            ShapePosition.Top => (0.0, -PositionOffset),
            ShapePosition.Bottom => (0.0, PositionOffset),
            _ => (0.0, 0.0),
        };
        return (size * (0.5 + dx + scene.JitterX), size * (0.5 + dy + scene.JitterY));
    }

    /// <summary>Renders the scene as a square image of side <paramref name="size"/> (at least 32).</summary>
    public static RgbImage Render(ShapeScene scene, int size = 32)
    {
        ArgumentNullException.ThrowIfNull(scene);
        if (size < 32) throw new ArgumentOutOfRangeException(nameof(size), size, "Shapes are drawn at 32×32 or larger.");
        if (scene.Scale is < 0.1 or > 0.5) throw new ArgumentOutOfRangeException(nameof(scene), scene.Scale, "The shape scale must be in [0.1, 0.5].");
        var image = new RgbImage(size, size, scene.Background);
        var (cx, cy) = Centre(scene, size);
        var r = scene.Scale * size / 2;
        for (var y = 0; y < size; y++)
        {
            var py = y + 0.5;
            for (var x = 0; x < size; x++)
            {
                var px = x + 0.5;
                if (Inside(scene.Shape, px - cx, py - cy, r)) image.Set(x, y, scene.Color);
            }
        }
        return image;
    }

    private static bool Inside(ShapeKind shape, double dx, double dy, double r) => shape switch
    {
        ShapeKind.Circle => dx * dx + dy * dy <= r * r,
        ShapeKind.Square => Math.Abs(dx) <= r && Math.Abs(dy) <= r,
        // Apex at (0, −r), base from (−r, r) to (r, r): the half-width grows linearly from 0 to r.
        ShapeKind.Triangle => dy >= -r && dy <= r && Math.Abs(dx) <= (dy + r) / 2,
        _ => false,
    };
}
