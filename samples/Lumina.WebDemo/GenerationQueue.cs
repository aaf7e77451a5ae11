using Lumina.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lumina.WebDemo;

/// <summary>
/// Requests wait here and run one at a time (the pipeline serializes calls anyway; the queue makes the wait visible).
/// A job's position is how many jobs are ahead of it, the running one included.
/// </summary>
public sealed class GenerationQueue(IOptions<DemoDefaults> defaults)
{
    private const int KeepFinished = 64;
    private readonly Lock _gate = new();
    private readonly List<GenerationJob> _pending = [];
    private readonly Dictionary<string, GenerationJob> _jobs = new(StringComparer.Ordinal);
    private readonly Queue<string> _finished = new();
    private readonly SemaphoreSlim _signal = new(0);
    private GenerationJob? _running;

    /// <summary>Adds a job at the back.</summary>
    /// <exception cref="QueueFullException">Too many jobs are waiting.</exception>
    public GenerationJob Enqueue(GenerationJob job)
    {
        lock (_gate)
        {
            if (_pending.Count >= defaults.Value.MaxQueued)
                throw new QueueFullException($"{_pending.Count} requests are already waiting; try again in a moment.");
            _pending.Add(job);
            _jobs[job.Id] = job;
        }

        _signal.Release();
        return job;
    }

    /// <summary>Finds a job by id (finished jobs are kept for a while).</summary>
    public GenerationJob? Find(string id)
    {
        lock (_gate)
            return _jobs.GetValueOrDefault(id);
    }

    /// <summary>How many jobs are ahead of <paramref name="job"/> (0 when it is running or finished).</summary>
    public int Position(GenerationJob job)
    {
        lock (_gate)
        {
            var index = _pending.IndexOf(job);
            return index < 0 ? 0 : index + (_running is null ? 0 : 1);
        }
    }

    /// <summary>Jobs waiting or running.</summary>
    public int Length
    {
        get
        {
            lock (_gate)
                return _pending.Count + (_running is null ? 0 : 1);
        }
    }

    /// <summary>Waits for the next job and marks it running.</summary>
    internal async Task<GenerationJob> TakeAsync(CancellationToken cancellationToken)
    {
        await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            var job = _pending[0];
            _pending.RemoveAt(0);
            _running = job;
            job.State = JobState.Running;
            return job;
        }
    }

    /// <summary>Marks the running job finished and forgets the oldest finished ones.</summary>
    internal void Complete(GenerationJob job)
    {
        lock (_gate)
        {
            _running = null;
            _finished.Enqueue(job.Id);
            while (_finished.Count > KeepFinished)
                _jobs.Remove(_finished.Dequeue());
        }

        job.Finish();
    }
}

/// <summary>The queue is full.</summary>
public sealed class QueueFullException(string message) : Exception(message);

/// <summary>Runs queued jobs one after another on the registered text-to-image pipeline.</summary>
public sealed class GenerationWorker(GenerationQueue queue, ILuminaPipelines pipelines, ILogger<GenerationWorker> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            GenerationJob job;
            try
            {
                job = await queue.TakeAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                var pipeline = await pipelines.GetTextToImageAsync("default", stoppingToken);
                using var result = await pipeline.GenerateAsync(job.Request, new JobProgress(job), stoppingToken);
                job.Png = result.ToPng(0);
                job.Settings = result.Metadata[0];
                job.State = JobState.Done;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Generation {Job} failed", job.Id);
                job.Error = e.Message.Split('\n')[0];
                job.State = JobState.Failed;
            }
            finally
            {
                queue.Complete(job);
            }
        }
    }

    private sealed class JobProgress(GenerationJob job) : IProgress<Lumina.Pipelines.GenerationProgress>
    {
        public void Report(Lumina.Pipelines.GenerationProgress value) => job.Progress = value;
    }
}
