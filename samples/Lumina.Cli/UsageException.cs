namespace Lumina.Cli;

/// <summary>A command-line value that passed parsing but makes no sense; reported with exit code 1.</summary>
internal sealed class UsageException(string message) : Exception(message);
