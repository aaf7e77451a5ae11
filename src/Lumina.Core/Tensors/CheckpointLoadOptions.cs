namespace Lumina.Tensors;

/// <summary>How <see cref="ModuleCheckpointExtensions.LoadSafetensors(TorchSharp.torch.nn.Module, string, CheckpointLoadOptions?)"/> matches file keys to module keys.</summary>
public sealed record CheckpointLoadOptions
{
    /// <summary>
    /// When true (the default), any missing key, unexpected key or shape mismatch fails the load with a
    /// <see cref="CheckpointMismatchException"/> and nothing is changed. When false, matching tensors are loaded
    /// and the problems are returned in the <see cref="CheckpointLoadReport"/>.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// Maps a key as stored in the file to the module's key, for checkpoints in another layout (for example
    /// diffusers names to upstream names). Returning null skips that file key on purpose (it is neither loaded nor
    /// reported as unexpected). Null means keys are used as they are.
    /// </summary>
    public Func<string, string?>? KeyMap { get; init; }
}
