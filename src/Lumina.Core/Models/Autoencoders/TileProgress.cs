namespace Lumina.Models.Autoencoders;

/// <summary>Progress of a tiled encode or decode.</summary>
/// <param name="Completed">Tiles done.</param>
/// <param name="Total">Tiles in all.</param>
public readonly record struct TileProgress(int Completed, int Total);
