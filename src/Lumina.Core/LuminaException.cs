namespace Lumina;

/// <summary>The base type of the exceptions that Lumina.NET raises for its own, documented failure modes.</summary>
public class LuminaException : Exception
{
    /// <summary>Creates the exception with a message that says what went wrong and what to do.</summary>
    public LuminaException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public LuminaException(string message, Exception? innerException) : base(message, innerException) { }
}
