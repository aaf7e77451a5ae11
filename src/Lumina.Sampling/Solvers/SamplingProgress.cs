namespace Lumina.Solvers;

/// <summary>Progress of a sampling run, reported once per completed grid interval.</summary>
/// <param name="Step">How many grid intervals are done (1 after the first).</param>
/// <param name="TotalSteps">How many grid intervals the run has in total.</param>
/// <param name="Time">The flow time reached (0 = noise, 1 = data).</param>
/// <param name="FunctionEvaluations">Velocity (model) calls made so far.</param>
public readonly record struct SamplingProgress(int Step, int TotalSteps, double Time, int FunctionEvaluations)
{
    /// <summary>The fraction of grid intervals done, in [0, 1].</summary>
    public double Fraction => TotalSteps == 0 ? 1.0 : (double)Step / TotalSteps;
}
