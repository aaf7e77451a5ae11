namespace Lumina.Models.DiT;

/// <summary>
/// An architecture of a diffusion transformer (<see cref="NextDiTConfig"/>, <see cref="FlagDiTConfig"/>,
/// <see cref="MusicDiTConfig"/>, …): what a model family builds its transformer from when a checkpoint does not say.
/// </summary>
public interface IDiTConfig
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    void Validate();
}
