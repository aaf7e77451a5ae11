using Lumina.Pipelines;

namespace Lumina.WebDemo;

/// <summary>What the page and the JSON API send: a prompt and a few settings (null = the server's defaults).</summary>
/// <param name="Prompt">What the image should show.</param>
/// <param name="Width">Width in pixels (a multiple of 16).</param>
/// <param name="Height">Height in pixels (a multiple of 16).</param>
/// <param name="Steps">Solver steps.</param>
/// <param name="Seed">Noise seed; null picks one at random (reported back).</param>
public sealed record DemoRequest(string? Prompt, int? Width = null, int? Height = null, int? Steps = null, long? Seed = null)
{
    /// <summary>The pipeline request, validated (an <see cref="ArgumentException"/> names the bad field).</summary>
    public TextToImageRequest ToPipelineRequest(DemoDefaults defaults)
    {
        if (string.IsNullOrWhiteSpace(Prompt))
            throw new ArgumentException("Type a prompt.", "prompt");
        var request = new TextToImageRequest(Prompt.Trim())
        {
            Width = Width ?? defaults.Width,
            Height = Height ?? defaults.Height,
            NumInferenceSteps = Steps ?? defaults.Steps,
            Seed = Seed,
        };
        if (request.NumInferenceSteps > defaults.MaxSteps)
            throw new ArgumentOutOfRangeException("steps", request.NumInferenceSteps, $"This demo runs at most {defaults.MaxSteps} steps.");
        if (request.Width is int w && request.Height is int h && (long)w * h > defaults.MaxPixels)
            throw new ArgumentOutOfRangeException("width", w, $"This demo makes images of at most {defaults.MaxPixels} pixels (width × height).");
        request.Validate();
        return request;
    }
}

/// <summary>The demo's defaults and limits (configuration section <c>Demo</c>, or <c>--width</c> etc. on the command line).</summary>
public sealed class DemoDefaults
{
    /// <summary>Default width; null = the model's training size (32 for the demo model, 1024 for Lumina-Next).</summary>
    public int? Width { get; set; }

    /// <summary>Default height; null = the model's training size.</summary>
    public int? Height { get; set; }

    /// <summary>Default steps; null = the pipeline preset's.</summary>
    public int? Steps { get; set; }

    /// <summary>Largest accepted steps.</summary>
    public int MaxSteps { get; set; } = 100;

    /// <summary>Largest accepted width × height.</summary>
    public int MaxPixels { get; set; } = 1024 * 1024;

    /// <summary>How many requests may wait at once; more are refused with 503.</summary>
    public int MaxQueued { get; set; } = 16;
}
