namespace Lumina.Training.Shapes;

/// <summary>The shapes the procedural dataset draws.</summary>
public enum ShapeKind
{
    /// <summary>A disc (fills about π/4 of its bounding box).</summary>
    Circle,

    /// <summary>An axis-aligned square (fills its bounding box).</summary>
    Square,

    /// <summary>An upward isosceles triangle (fills about half of its bounding box).</summary>
    Triangle,
}
