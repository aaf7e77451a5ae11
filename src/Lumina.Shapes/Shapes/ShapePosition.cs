namespace Lumina.Training.Shapes;

/// <summary>Where the shape sits in the image.</summary>
public enum ShapePosition
{
    /// <summary>Centred.</summary>
    Center,

    /// <summary>Left of centre.</summary>
    Left,

    /// <summary>Right of centre.</summary>
    Right,

    /// <summary>Above centre.</summary>
    Top,

    /// <summary>Below centre.</summary>
    Bottom,
}
