namespace Lumina.Training;

/// <summary>
/// A deterministic data source: the batch for a step depends only on the step index (and the source's own seed), so a
/// resumed run sees exactly the batches an uninterrupted run would.
/// </summary>
public interface ITrainingData
{
    /// <summary>The batch for training step <paramref name="step"/> (0-based).</summary>
    TrainingBatch GetBatch(long step, int batchSize);
}
