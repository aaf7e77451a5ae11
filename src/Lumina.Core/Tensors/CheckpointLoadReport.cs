namespace Lumina.Tensors;

/// <summary>What a checkpoint load did.</summary>
/// <param name="Loaded">Module keys that received a tensor.</param>
/// <param name="Missing">Module keys that the file does not provide.</param>
/// <param name="Unexpected">File keys (after mapping) that the module does not have.</param>
/// <param name="ShapeMismatches">Keys whose stored shape differs from the module's, with both shapes.</param>
/// <param name="Skipped">File keys the key map skipped on purpose.</param>
public sealed record CheckpointLoadReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> ShapeMismatches,
    IReadOnlyList<string> Skipped)
{
    /// <summary>True when every module key was loaded and the file held nothing else.</summary>
    public bool IsExactMatch => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatches.Count == 0;
}
