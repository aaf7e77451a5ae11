namespace Lumina.Cli;

/// <summary>An <see cref="IProgress{T}"/> that calls its action at once on the reporting thread (no synchronization context needed).</summary>
internal sealed class ActionProgress<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
