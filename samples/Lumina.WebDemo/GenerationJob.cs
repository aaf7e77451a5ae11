using Lumina.Pipelines;

namespace Lumina.WebDemo;

/// <summary>The state of a queued request.</summary>
public enum JobState
{
    /// <summary>Waiting for the requests ahead of it (or for the model to load).</summary>
    Queued,

    /// <summary>Being generated.</summary>
    Running,

    /// <summary>Finished; the image is ready.</summary>
    Done,

    /// <summary>Failed; <see cref="GenerationJob.Error"/> says why.</summary>
    Failed,

    /// <summary>Cancelled (by <c>POST /api/jobs/{id}/cancel</c>, or because the client of <c>/api/generate</c> went away).</summary>
    Cancelled,
}

/// <summary>
/// One request in the queue, updated by the worker as it runs. A finished job keeps only its PNG bytes, the settings
/// it was made with and its error: no tensors or decoded images, so the queue's memory is bounded by
/// <see cref="DemoDefaults.KeepFinished"/> and <see cref="DemoDefaults.KeepFinishedBytes"/>.
/// </summary>
public sealed class GenerationJob(DemoRequest body)
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The job's id.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>What was asked for (validated against the model's limits when the model is known).</summary>
    public DemoRequest Body { get; } = body;

    /// <summary>Where it is.</summary>
    public JobState State { get; set; } = JobState.Queued;

    /// <summary>The latest progress report while running.</summary>
    public GenerationProgress? Progress { get; set; }

    /// <summary>The PNG (with its metadata chunks) once done.</summary>
    public byte[]? Png { get; set; }

    /// <summary>How the image was made, once done.</summary>
    public GenerationMetadata? Settings { get; set; }

    /// <summary>Why it failed.</summary>
    public string? Error { get; set; }

    /// <summary>The request field at fault when it failed validation against the loaded model.</summary>
    public string? Field { get; set; }

    /// <summary>Notes on the prompt or size for this model (words it does not know, a size it was not trained at).</summary>
    public IReadOnlyList<string> Warnings { get; set; } = [];

    /// <summary>Cancelled when the job is.</summary>
    public CancellationToken CancellationToken => _cancel.Token;

    /// <summary>Completes when the job is done, failed or cancelled.</summary>
    public Task Finished => _finished.Task;

    /// <summary>True once finished.</summary>
    public bool IsFinished => _finished.Task.IsCompleted;

    /// <summary>Asks a running job to stop at its next model call.</summary>
    internal void RequestCancel() => _cancel.Cancel();

    /// <summary>Marks the job finished.</summary>
    internal void Finish() => _finished.TrySetResult();
}
