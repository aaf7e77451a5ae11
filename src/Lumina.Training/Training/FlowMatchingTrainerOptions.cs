namespace Lumina.Training;

/// <summary>Training settings; the defaults are upstream's (<c>lumina_next_t2i/train.py</c>) where upstream has one.</summary>
public sealed record FlowMatchingTrainerOptions
{
    /// <summary>AdamW learning rate (upstream 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>AdamW decoupled weight decay (upstream 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>AdamW β1 (0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β2 (0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>AdamW ε (1e-8).</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Global L2 gradient-norm clip (upstream 2.0); null = no clipping.</summary>
    public double? GradClip { get; init; } = 2.0;

    /// <summary>EMA decay (upstream 0.9999).</summary>
    public double EmaDecay { get; init; } = 0.9999;

    /// <summary>Probability that a sample's caption is replaced by "" (upstream 0.1), which teaches the unconditional branch for guidance.</summary>
    public double CaptionDropout { get; init; } = 0.1;

    /// <summary>How t is drawn (upstream uniform).</summary>
    public TimestepSampling TimestepSampling { get; init; } = TimestepSampling.Uniform;

    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>
    /// Seed of all training randomness. Each step draws its caption dropout, times and noise from a generator seeded by
    /// (Seed, step), so a resumed run repeats an uninterrupted one exactly.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>Write a checkpoint every this many steps during <see cref="FlowMatchingTrainer.Train"/> (0 = only at the end).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>
    /// Results folder; checkpoints go to <c>{OutputDirectory}/checkpoints/{step:D7}/</c> as upstream lays them out.
    /// Null = <see cref="FlowMatchingTrainer.Train"/> writes no checkpoints.
    /// </summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentException($"LearningRate must be positive; got {LearningRate}.");
        if (WeightDecay < 0) throw new ArgumentException($"WeightDecay must be ≥ 0; got {WeightDecay}.");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new ArgumentException($"Betas must be in [0, 1); got ({Beta1}, {Beta2}).");
        if (!(Eps > 0)) throw new ArgumentException($"Eps must be positive; got {Eps}.");
        if (GradClip is double c && !(c > 0)) throw new ArgumentException($"GradClip must be positive or null; got {c}.");
        if (EmaDecay is < 0 or > 1) throw new ArgumentException($"EmaDecay must be in [0, 1]; got {EmaDecay}.");
        if (CaptionDropout is < 0 or > 1) throw new ArgumentException($"CaptionDropout must be in [0, 1]; got {CaptionDropout}.");
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be ≥ 1; got {BatchSize}.");
        if (CheckpointEvery < 0) throw new ArgumentException($"CheckpointEvery must be ≥ 0; got {CheckpointEvery}.");
    }
}
