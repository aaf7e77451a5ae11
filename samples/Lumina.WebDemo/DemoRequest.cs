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
    /// <summary>
    /// The pipeline request, validated (an <see cref="ArgumentException"/> names the bad field). Missing fields are
    /// filled in first (the configured default, else the model's), then every limit is applied to the filled-in
    /// request. Before the model has loaded (<paramref name="model"/> null) the limits in tokens cannot be known yet; the
    /// worker checks again when it has.
    /// </summary>
    public TextToImageRequest ToPipelineRequest(DemoDefaults defaults, ModelLimits? model)
    {
        if (string.IsNullOrWhiteSpace(Prompt))
            throw new ArgumentException("Type a prompt.", "prompt");
        var request = new TextToImageRequest(Prompt.Trim())
        {
            Width = Width ?? defaults.Width ?? model?.Width,
            Height = Height ?? defaults.Height ?? model?.Height,
            NumInferenceSteps = Steps ?? defaults.Steps ?? model?.Steps,
            Seed = Seed,
        };
        if (request.NumInferenceSteps > defaults.MaxSteps)
            throw new ArgumentOutOfRangeException("steps", request.NumInferenceSteps, $"This demo runs at most {defaults.MaxSteps} steps.");
        request.Validate();
        if (model is not null && request.Width is int w && request.Height is int h && model.TokensFor(w, h) > defaults.MaxTokens)
        {
            var field = Width is null && Height is not null ? "height" : "width";
            var side = (int)Math.Sqrt(defaults.MaxTokens) * model.SizeMultiple;
            throw new ArgumentOutOfRangeException(field, field == "width" ? w : h,
                $"{w}×{h} is {model.TokensFor(w, h)} tokens for this model ({model.SizeMultiple} pixels per token along each side); this demo makes at most {defaults.MaxTokens} tokens, for example {side}×{side}.");
        }

        return request;
    }
}

/// <summary>The demo's defaults and limits (configuration section <c>Demo</c>, or <c>--width</c> etc. on the command line).</summary>
public sealed class DemoDefaults
{
    /// <summary>Default width; null = the model's (its training size: 32 for the demo model, 1024 for Lumina-Next).</summary>
    public int? Width { get; set; }

    /// <summary>Default height; null = the model's training size.</summary>
    public int? Height { get; set; }

    /// <summary>Default steps; null = the model family's preset's.</summary>
    public int? Steps { get; set; }

    /// <summary>Largest accepted steps.</summary>
    public int MaxSteps { get; set; } = 100;

    /// <summary>
    /// Largest accepted image, in the loaded model's transformer tokens: (width / m) × (height / m) with m its pixels per
    /// token (16 for Lumina-Next: a VAE that downscales by 8 and patch 2; 2 for the 32×32 pixel-space demo model). The
    /// default, 4096, is one 1024×1024 Lumina-Next image, or 128×128 with the demo model. Memory and time grow with it
    /// (attention is quadratic in it), which a pixel count cannot say across models.
    /// </summary>
    public int MaxTokens { get; set; } = 4096;

    /// <summary>How many finished jobs (their PNG and settings) are kept for <c>GET /api/jobs/{id}</c>; older ones are forgotten.</summary>
    public int KeepFinished { get; set; } = 32;

    /// <summary>The most PNG bytes finished jobs may hold together; the oldest are forgotten first.</summary>
    public long KeepFinishedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How many requests may wait at once; more are refused with 503.</summary>
    public int MaxQueued { get; set; } = 16;
}
