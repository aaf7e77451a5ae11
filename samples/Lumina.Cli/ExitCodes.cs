namespace Lumina.Cli;

/// <summary>The process exit codes of <c>lumina</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command line was wrong (unknown option, bad value); the message says which part.</summary>
    public const int Usage = 1;

    /// <summary>The command line was fine but the work failed (missing or corrupt file, network, cancelled).</summary>
    public const int Failure = 2;
}
