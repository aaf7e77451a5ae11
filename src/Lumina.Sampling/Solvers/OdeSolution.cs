using TorchSharp;

namespace Lumina.Solvers;

/// <summary>The result of an ODE/SDE solve. Owns its tensors: dispose it (or move the tensors out) when done.</summary>
public sealed class OdeSolution : IDisposable
{
    internal OdeSolution(torch.Tensor final, torch.Tensor? trajectory, IReadOnlyList<double> times,
        int completedSteps, bool stoppedEarly, int functionEvaluations, int acceptedSteps, int rejectedSteps)
    {
        Final = final;
        Trajectory = trajectory;
        Times = times;
        CompletedSteps = completedSteps;
        StoppedEarly = stoppedEarly;
        FunctionEvaluations = functionEvaluations;
        AcceptedSteps = acceptedSteps;
        RejectedSteps = rejectedSteps;
    }

    /// <summary>The state at the last grid time reached (the sample when the run completed).</summary>
    public torch.Tensor Final { get; }

    /// <summary>With <see cref="SolveOptions.KeepTrajectory"/>: the state at every grid time reached, stacked
    /// along a new leading dimension (index 0 is the initial state); otherwise <see langword="null"/>.</summary>
    public torch.Tensor? Trajectory { get; }

    /// <summary>The grid times, as the solver used them.</summary>
    public IReadOnlyList<double> Times { get; }

    /// <summary>How many grid intervals were completed.</summary>
    public int CompletedSteps { get; }

    /// <summary>True when a <see cref="SamplingStepCallback"/> stopped the run (<see cref="SamplingStep.Stop"/>) before the last grid time.</summary>
    public bool StoppedEarly { get; }

    /// <summary>How many times the velocity function (the model) was called.</summary>
    public int FunctionEvaluations { get; }

    /// <summary>Integration steps accepted (for fixed-grid solvers, one per grid interval).</summary>
    public int AcceptedSteps { get; }

    /// <summary>Integration steps rejected by an adaptive solver's error control (0 for fixed grids).</summary>
    public int RejectedSteps { get; }

    /// <summary>This solution with <paramref name="final"/> as its final state (which it then owns); the current final
    /// state is disposed.</summary>
    internal OdeSolution WithFinal(torch.Tensor final)
    {
        Final.Dispose();
        return new OdeSolution(final.DetachFromDisposeScope(), Trajectory, Times, CompletedSteps, StoppedEarly, FunctionEvaluations, AcceptedSteps, RejectedSteps);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Final.Dispose();
        Trajectory?.Dispose();
    }
}
