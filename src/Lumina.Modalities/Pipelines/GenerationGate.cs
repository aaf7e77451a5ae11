namespace Lumina.Pipelines;

/// <summary>
/// What every pipeline does around a generation: one generation at a time (others wait in order), a worker thread
/// for the model work, the native heap trimmed afterwards (see <see cref="NativeHeap"/>), and a <c>Dispose</c> that
/// waits for the running generation, frees the components once, and makes later calls throw.
/// </summary>
internal sealed class GenerationGate
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly object owner;

    /// <param name="owner">The pipeline (named by <see cref="ObjectDisposedException"/>).</param>
    public GenerationGate(object owner) => this.owner = owner;

    /// <summary>Whether <see cref="Dispose"/> ran.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Throws <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>.</summary>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, owner);

    /// <summary>Waits for its turn, then runs <paramref name="work"/> on a worker thread.</summary>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            return await Task.Run(work, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            NativeHeap.Trim(); // keeps resident memory flat over many generations (see NativeHeap)
            gate.Release();
        }
    }

    /// <summary>Waits for a running generation, then runs <paramref name="work"/> on the calling thread (model edits).</summary>
    public T Run<T>(Func<T> work)
    {
        ThrowIfDisposed();
        gate.Wait();
        try
        {
            ThrowIfDisposed();
            return work();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Waits for a running generation, then disposes <paramref name="components"/> in order (once).</summary>
    public void Dispose(params IDisposable[] components)
    {
        if (IsDisposed) return;
        gate.Wait();
        try
        {
            if (IsDisposed) return;
            IsDisposed = true;
            foreach (var component in components) component.Dispose();
        }
        finally
        {
            gate.Release();
        }
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (unlike <see cref="Progress{T}"/>, which posts).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
