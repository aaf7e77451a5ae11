using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>One batch of training data: targets x1 (images or latents) and their captions.</summary>
/// <param name="Data">Targets x1 [B, C, H, W] (for pixel models in [−1, 1]).</param>
/// <param name="Captions">One caption per sample.</param>
public sealed record TrainingBatch(Tensor Data, IReadOnlyList<string> Captions) : IDisposable
{
    /// <summary>Disposes <see cref="Data"/>.</summary>
    public void Dispose() => Data.Dispose();
}
