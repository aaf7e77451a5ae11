using Lumina.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lumina.WebDemo;

/// <summary>
/// Requests wait here and run one at a time (the pipeline serializes calls anyway; the queue makes the wait visible).
/// A job's position is how many jobs are ahead of it, the running one included. Finished jobs are kept, newest first,
/// up to <see cref="DemoDefaults.KeepFinished"/> jobs and <see cref="DemoDefaults.KeepFinishedBytes"/> PNG bytes.
/// </summary>
public sealed class GenerationQueue(IOptions<DemoDefaults> defaults)
{
    private readonly Lock _gate = new();
    private readonly List<GenerationJob> _pending = [];
    private readonly Dictionary<string, GenerationJob> _jobs = new(StringComparer.Ordinal);
    private readonly Queue<GenerationJob> _finished = new();
    private readonly SemaphoreSlim _signal = new(0);
    private long _finishedBytes;
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

    /// <summary>
    /// Cancels <paramref name="job"/>: a waiting job leaves the queue at once; a running one stops at its next model call
    /// (its state becomes <see cref="JobState.Cancelled"/> when it has). False when it had already finished.
    /// </summary>
    public bool Cancel(GenerationJob job)
    {
        lock (_gate)
        {
            if (job.IsFinished)
                return false;
            if (_pending.Remove(job))
            {
                job.State = JobState.Cancelled;
                Remember(job);
                job.Finish();
                return true;
            }
        }

        job.RequestCancel();
        return true;
    }

    /// <summary>Waits for the next job and marks it running.</summary>
    internal async Task<GenerationJob> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                if (_pending.Count == 0)
                    continue; // that job was cancelled while it waited
                var job = _pending[0];
                _pending.RemoveAt(0);
                _running = job;
                job.State = JobState.Running;
                return job;
            }
        }
    }

    /// <summary>Marks the running job finished and forgets the oldest finished ones.</summary>
    internal void Complete(GenerationJob job)
    {
        lock (_gate)
        {
            _running = null;
            Remember(job);
        }

        job.Finish();
    }

    private void Remember(GenerationJob job)
    {
        _finished.Enqueue(job);
        _finishedBytes += job.Png?.LongLength ?? 0;
        while (_finished.Count > Math.Max(1, defaults.Value.KeepFinished) || (_finished.Count > 1 && _finishedBytes > defaults.Value.KeepFinishedBytes))
        {
            var old = _finished.Dequeue();
            _finishedBytes -= old.Png?.LongLength ?? 0;
            _jobs.Remove(old.Id);
        }
    }
}

/// <summary>The queue is full.</summary>
public sealed class QueueFullException(string message) : Exception(message);

/// <summary>Runs queued jobs one after another on the registered text-to-image pipeline.</summary>
public sealed class GenerationWorker(GenerationQueue queue, ModelStatus model, ILuminaPipelines pipelines, IOptions<DemoDefaults> defaults,
    ILogger<GenerationWorker> logger) : BackgroundService
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

            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, job.CancellationToken);
            try
            {
                var pipeline = await model.GetPipelineAsync(pipelines, cancel.Token);
                // The limits are in the model's tokens, so they are applied again now that the model is known.
                var request = job.Body.ToPipelineRequest(defaults.Value, model.Limits);
                using var result = await pipeline.GenerateAsync(request, new JobProgress(job), cancel.Token);
                job.Png = result.ToPng(0);
                job.Settings = result.Metadata[0];
                job.Warnings = result.Warnings;
                job.State = JobState.Done;
            }
            catch (OperationCanceledException) when (job.CancellationToken.IsCancellationRequested)
            {
                logger.LogDebug("Generation {Job} cancelled", job.Id);
                job.State = JobState.Cancelled;
            }
            catch (ArgumentException e)
            {
                (job.Error, job.Field) = (RequestErrors.Message(e), e.ParamName);
                job.State = JobState.Failed;
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

/// <summary>How an <see cref="ArgumentException"/> reads in a 400: its first line, without .NET's "(Parameter 'x')" tail.</summary>
public static class RequestErrors
{
    /// <summary>The message.</summary>
    public static string Message(ArgumentException e)
    {
        var message = e.Message.Split('\n')[0];
        var tail = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return tail < 0 ? message : message[..tail];
    }
}
