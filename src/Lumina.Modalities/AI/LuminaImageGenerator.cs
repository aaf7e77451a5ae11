using System.Globalization;
using System.Text.Json;
using Lumina.Pipelines;
using Lumina.Solvers;
using Microsoft.Extensions.AI;

namespace Lumina.AI;

#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI 10.x; this adapter tracks it.
/// <summary>
/// A <see cref="TextToImagePipeline"/> as a Microsoft.Extensions.AI <see cref="IImageGenerator"/>. Each image comes back
/// as a <see cref="DataContent"/> of PNG bytes (<c>image/png</c>) carrying the generation metadata chunks.
/// <para>Options: <c>Count</c> → images, <c>ImageSize</c> → width/height (multiples of 16). <c>AdditionalProperties</c>
/// may hold <c>seed</c>, <c>steps</c>, <c>solver</c>, <c>shift</c>, <c>guidance</c>, <c>negative_prompt</c> and
/// <c>system_prompt</c> (a Lumina-Image 2.0 system-prompt name).
/// Only <see cref="ImageGenerationResponseFormat.Data"/> and <c>image/png</c> are produced; image editing (original
/// images) is not supported.</para>
/// </summary>
internal sealed class LuminaImageGenerator : IImageGenerator
{
    private readonly Func<CancellationToken, Task<TextToImagePipeline>> pipeline;
    private readonly ImageGeneratorMetadata metadata;

    /// <summary>Wraps a pipeline that the caller keeps ownership of.</summary>
    public LuminaImageGenerator(TextToImagePipeline pipeline)
        : this(_ => Task.FromResult(pipeline), (pipeline ?? throw new ArgumentNullException(nameof(pipeline))).ModelId)
    {
    }

    /// <summary>Wraps a lazily loaded pipeline (the DI registration uses this).</summary>
    /// <param name="pipeline">Returns the pipeline; not disposed by this adapter.</param>
    /// <param name="modelId">Reported as the default model id.</param>
    public LuminaImageGenerator(Func<CancellationToken, Task<TextToImagePipeline>> pipeline, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        this.pipeline = pipeline;
        metadata = new ImageGeneratorMetadata("Lumina.NET", null, modelId);
    }

    /// <inheritdoc />
    public async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.OriginalImages?.Any() == true)
            throw new NotSupportedException("Lumina.NET's image generator does not edit images (OriginalImages); pass a prompt only.");
        if (options?.ResponseFormat is { } format && format != ImageGenerationResponseFormat.Data)
            throw new NotSupportedException($"ResponseFormat {format} is not supported; Lumina.NET returns image data (ImageGenerationResponseFormat.Data).");
        if (options?.MediaType is { } media && !string.Equals(media, "image/png", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"MediaType '{media}' is not supported; Lumina.NET returns image/png.");

        var pipe = await pipeline(cancellationToken).ConfigureAwait(false);
        var lumina = ToRequest(request, options);
        using var result = await pipe.GenerateAsync(lumina, null, cancellationToken).ConfigureAwait(false);
        var contents = new List<AIContent>();
        for (var i = 0; i < result.Images.Count; i++)
            contents.Add(new DataContent(result.ToPng(i), "image/png"));
        return new ImageGenerationResponse(contents) { RawRepresentation = result.Metadata.ToArray() };
    }

    /// <summary>Maps a Microsoft.Extensions.AI request onto a <see cref="TextToImageRequest"/> (validated by the pipeline).</summary>
    public static TextToImageRequest ToRequest(ImageGenerationRequest request, ImageGenerationOptions? options)
    {
        ArgumentNullException.ThrowIfNull(request);
        var lumina = new TextToImageRequest(request.Prompt ?? throw new ArgumentException("The request has no prompt.", nameof(request)));
        if (options is null) return lumina;
        if (options.Count is { } count) lumina = lumina with { ImagesPerPrompt = count };
        if (options.ImageSize is { } size) lumina = lumina with { Width = size.Width, Height = size.Height };
        if (options.AdditionalProperties is { } props)
        {
            if (props.TryGetValue("seed", out var seed) && seed is not null) lumina = lumina with { Seed = Convert.ToInt64(Scalar(seed), CultureInfo.InvariantCulture) };
            if (props.TryGetValue("steps", out var steps) && steps is not null) lumina = lumina with { NumInferenceSteps = Convert.ToInt32(Scalar(steps), CultureInfo.InvariantCulture) };
            if (props.TryGetValue("shift", out var shift) && shift is not null) lumina = lumina with { TimeShift = Convert.ToDouble(Scalar(shift), CultureInfo.InvariantCulture) };
            if (props.TryGetValue("guidance", out var guidance) && guidance is not null) lumina = lumina with { GuidanceScale = Convert.ToDouble(Scalar(guidance), CultureInfo.InvariantCulture) };
            if (props.TryGetValue("negative_prompt", out var negative) && negative is not null) lumina = lumina with { NegativePrompt = Convert.ToString(Scalar(negative), CultureInfo.InvariantCulture) };
            if (props.TryGetValue("system_prompt", out var system) && system is not null) lumina = lumina with { SystemPrompt = Convert.ToString(Scalar(system), CultureInfo.InvariantCulture) };
            if (props.TryGetValue("solver", out var solver) && solver is not null)
                lumina = lumina with { Solver = solver is OdeMethod m ? m : OdeSolver.ParseMethod(Convert.ToString(Scalar(solver), CultureInfo.InvariantCulture)!) };
        }
        return lumina;
    }

    private static object? Scalar(object value) => value is JsonElement e
        ? e.ValueKind switch
        {
            JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
            JsonValueKind.String => e.GetString(),
            _ => e.ToString(),
        }
        : value;

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ImageGeneratorMetadata)) return metadata;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
#pragma warning restore MEAI001
