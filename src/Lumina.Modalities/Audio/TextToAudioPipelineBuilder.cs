using Lumina.Pipelines;
using static TorchSharp.torch;

namespace Lumina.Audio;

/// <summary>Fluent builder of a <see cref="TextToAudioPipeline"/> (<c>LuminaPipeline.TextToAudio()</c>).</summary>
public sealed class TextToAudioPipelineBuilder
{
    private string? source;
    private TextToAudioSettings settings = new();
    private Device? device;
    private ScalarType? dtype;
    private ModelResolver? resolver;

    /// <summary>The model: a local text-to-audio folder, or a repo id resolved through <see cref="WithModelResolver"/>.</summary>
    public TextToAudioPipelineBuilder FromPretrained(string modelIdOrFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelIdOrFolder);
        source = modelIdOrFolder;
        return this;
    }

    /// <summary>Euler steps.</summary>
    public TextToAudioPipelineBuilder WithSteps(int steps)
    {
        RequestValidation.Steps(steps, nameof(steps));
        settings = settings with { NumInferenceSteps = steps };
        return this;
    }

    /// <summary>Classifier-free guidance scale.</summary>
    public TextToAudioPipelineBuilder WithGuidanceScale(double scale)
    {
        RequestValidation.NonNegative(scale, nameof(scale), "1 disables guidance.");
        settings = settings with { GuidanceScale = scale };
        return this;
    }

    /// <summary>Device and dtype of the models.</summary>
    public TextToAudioPipelineBuilder WithDevice(Device modelDevice, ScalarType? modelDType = null)
    {
        ArgumentNullException.ThrowIfNull(modelDevice);
        device = modelDevice;
        dtype = modelDType ?? dtype;
        return this;
    }

    /// <summary>How repo ids become local folders.</summary>
    public TextToAudioPipelineBuilder WithModelResolver(ModelResolver modelResolver)
    {
        ArgumentNullException.ThrowIfNull(modelResolver);
        resolver = modelResolver;
        return this;
    }

    /// <summary>Resolves and loads the pipeline on a worker thread.</summary>
    public async Task<TextToAudioPipeline> BuildAsync(CancellationToken cancellationToken = default)
    {
        var reference = source ?? throw new InvalidOperationException($"Call {nameof(FromPretrained)} before {nameof(BuildAsync)}.");
        var folder = await ModelReference.ResolveAsync(reference, ModelComponent.Pipeline, () => resolver, cancellationToken).ConfigureAwait(false);
        var (d, t, s) = (device, dtype, settings);
        return await Task.Run(() => TextToAudioLoader.Load(folder, d, t, s, cancellationToken), cancellationToken).ConfigureAwait(false);
    }
}
