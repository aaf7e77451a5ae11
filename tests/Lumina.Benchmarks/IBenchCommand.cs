namespace Lumina.Benchmarks;

/// <summary>One bench command. Each lives in its own file and is found by reflection.</summary>
public interface IBenchCommand
{
    /// <summary>The name typed on the command line.</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Description { get; }

    /// <summary>Runs the bench and prints its figures; returns the process exit code.</summary>
    int Run(string[] args);
}
