namespace Lumina.Sampling;

/// <summary>How many transformer calls a sampling run made and how many of them step caching served from its cache.</summary>
/// <param name="Evaluated">Calls that ran the transformer blocks.</param>
/// <param name="Skipped">Calls that reused the cached residual (only the embedders and the final layer ran).</param>
public readonly record struct ModelEvaluations(int Evaluated, int Skipped)
{
    /// <summary>Velocity calls the solver made: <see cref="Evaluated"/> + <see cref="Skipped"/>.</summary>
    public int Total => Evaluated + Skipped;

    /// <summary>Calls per full evaluation (1 without caching; 1.5 means a third of the calls were skipped); 0 before any call.</summary>
    public double ReductionRatio => Evaluated == 0 ? 0 : (double)Total / Evaluated;
}

/// <summary>
/// Counts the transformer calls of a sampling run as it goes (pass one to <see cref="FlowSamplingOptions.Evaluations"/>). Read
/// <see cref="Current"/> from a progress callback or after the run.
/// </summary>
public sealed class ModelEvaluationCounter
{
    private int evaluated;
    private int skipped;

    /// <summary>The counts so far.</summary>
    public ModelEvaluations Current => new(Volatile.Read(ref evaluated), Volatile.Read(ref skipped));

    internal void Record(bool wasSkipped)
    {
        if (wasSkipped) Interlocked.Increment(ref skipped);
        else Interlocked.Increment(ref evaluated);
    }
}
