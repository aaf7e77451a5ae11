using Lumina.Pipelines;

namespace Lumina.WebDemo;

/// <summary>The state of a queued request.</summary>
public enum JobState
{
    /// <summary>Waiting for the requests ahead of it.</summary>
    Queued,

    /// <summary>Being generated.</summary>
    Running,

    /// <summary>Finished; the image is ready.</summary>
    Done,

    /// <summary>Failed; <see cref="GenerationJob.Error"/> says why.</summary>
    Failed,
}

/// <summary>One request in the queue, updated by the worker as it runs.</summary>
public sealed class GenerationJob(TextToImageRequest request)
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The job's id.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>What to generate.</summary>
    public TextToImageRequest Request { get; } = request;

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

    /// <summary>Completes when the job is done or failed.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Marks the job finished.</summary>
    public void Finish() => _finished.TrySetResult();
}
