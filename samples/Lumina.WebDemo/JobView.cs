using Lumina.Pipelines;

namespace Lumina.WebDemo;

/// <summary>A job as the page and the JSON API see it.</summary>
/// <param name="Id">The job id.</param>
/// <param name="State">queued, running, done, failed or cancelled.</param>
/// <param name="Position">Jobs ahead of this one (0 when running or finished).</param>
/// <param name="Stage">
/// While running: <c>downloading</c> or <c>loading</c> (the model is not ready yet), then <c>encodingprompt</c>,
/// <c>sampling</c>, <c>decoding</c>.
/// </param>
/// <param name="Step">Solver steps done.</param>
/// <param name="TotalSteps">Solver steps in all.</param>
/// <param name="Fraction">Overall progress in [0, 1].</param>
/// <param name="ImageUrl">Where the PNG is, once done.</param>
/// <param name="Settings">How the image was made, once done.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Field">The request field at fault, when it failed the model's limits.</param>
/// <param name="Warnings">Notes on the prompt or size for this model.</param>
/// <param name="Image">The PNG as base64, only in the answer of <c>POST /api/generate</c>.</param>
public sealed record JobView(
    string Id, string State, int Position, string? Stage, int Step, int TotalSteps, double Fraction,
    string? ImageUrl, SettingsView? Settings, string? Error, string? Field, IReadOnlyList<string> Warnings, string? Image = null)
{
    /// <summary>Snapshots <paramref name="job"/>.</summary>
    public static JobView Of(GenerationJob job, GenerationQueue queue, ModelStatus model, bool withImage = false)
    {
        var progress = job.Progress;
        var done = job.State == JobState.Done;
        var stage = progress?.Stage.ToString().ToLowerInvariant() ?? (job.State == JobState.Running ? model.WaitingStage : null);
        return new JobView(
            job.Id,
            job.State.ToString().ToLowerInvariant(),
            queue.Position(job),
            stage,
            progress?.Step ?? 0,
            progress?.TotalSteps ?? 0,
            done ? 1 : progress?.Fraction ?? 0,
            done ? $"/api/jobs/{job.Id}/image" : null,
            job.Settings is { } s ? SettingsView.Of(s) : null,
            job.Error,
            job.Field,
            job.Warnings,
            withImage && job.Png is { } png ? Convert.ToBase64String(png) : null);
    }
}

/// <summary>The settings an image was made with (what its PNG metadata records).</summary>
public sealed record SettingsView(string Prompt, int Width, int Height, int Steps, string Solver, double Shift, double Guidance, long Seed, string Model)
{
    /// <summary>From the pipeline's metadata.</summary>
    public static SettingsView Of(GenerationMetadata m) =>
        new(m.Prompt, m.Width, m.Height, m.Steps, m.Solver.ToString().ToLowerInvariant(), m.TimeShift, m.GuidanceScale, m.Seed, m.ModelId);
}
