using Lumina.Sampling;

namespace Lumina.Pipelines;

/// <summary>Which stage a generation is in.</summary>
public enum GenerationStage
{
    /// <summary>Running the text encoder.</summary>
    EncodingPrompt,

    /// <summary>Running the sampler (the DiT).</summary>
    Sampling,

    /// <summary>Decoding latents with the VAE (and vocoder for audio).</summary>
    Decoding,
}

/// <summary>Progress of a generation: which output, which stage, and the sampler's step.</summary>
/// <param name="Item">Zero-based index of the output being made.</param>
/// <param name="Items">How many outputs the request makes.</param>
/// <param name="Stage">The stage.</param>
/// <param name="Step">Solver steps done for this output (0 outside sampling).</param>
/// <param name="TotalSteps">Solver steps this output takes.</param>
public readonly record struct GenerationProgress(int Item, int Items, GenerationStage Stage, int Step, int TotalSteps)
{
    /// <summary>Overall fraction done in [0, 1], counting sampling steps only.</summary>
    public double Fraction => Items == 0 || TotalSteps == 0 ? 0 : (Item + (double)Step / TotalSteps) / Items;

    /// <summary>The stage for a progress display: "encoding the prompt", "sampling" or "decoding".</summary>
    public string StageDescription => Stage switch
    {
        GenerationStage.EncodingPrompt => "encoding the prompt",
        GenerationStage.Sampling => "sampling",
        GenerationStage.Decoding => "decoding",
        _ => Stage.ToString(),
    };

    /// <summary>Transformer calls of this output so far: run vs skipped by step caching (sampling reports only).</summary>
    public ModelEvaluations Evaluations { get; init; }
}
