namespace Lumina.Training.Lora;

/// <summary>Where and how big the LoRA adapters are.</summary>
public sealed record LoraOptions
{
    /// <summary>The attention and feed-forward linears of the Lumina DiTs (matched as suffixes of module paths).</summary>
    public static IReadOnlyList<string> DefaultTargets { get; } =
        ["attention.wq", "attention.wk", "attention.wv", "attention.wo", "attention.wk_y", "attention.wv_y",
         "feed_forward.w1", "feed_forward.w2", "feed_forward.w3"];

    /// <summary>Adapter rank r (the inner width of B·A).</summary>
    public int Rank { get; init; } = 8;

    /// <summary>Scaling numerator: the update is (Alpha / Rank)·B·A.</summary>
    public double Alpha { get; init; } = 8;

    /// <summary>
    /// Module-path suffixes of the <c>Linear</c> layers to adapt (a suffix matches at a dot boundary, so
    /// <c>attention.wq</c> matches <c>layers.3.attention.wq</c>).
    /// </summary>
    public IReadOnlyList<string> Targets { get; init; } = DefaultTargets;

    /// <summary>Seed of the A initialisation (B starts at zero, so a fresh adapter changes nothing).</summary>
    public long Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Rank < 1) throw new ArgumentException($"LoRA rank must be ≥ 1; got {Rank}.");
        if (!(Alpha > 0)) throw new ArgumentException($"LoRA alpha must be positive; got {Alpha}.");
        if (Targets is null || Targets.Count == 0 || Targets.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("Name at least one target module suffix (for example \"attention.wq\").");
    }
}
