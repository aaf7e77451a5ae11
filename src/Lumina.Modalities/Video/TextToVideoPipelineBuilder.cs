using Lumina.Models.DiT;
using Lumina.Pipelines;
using Lumina.Solvers;
using static TorchSharp.torch;

namespace Lumina.Video;

/// <summary>
/// Fluent builder of a <see cref="TextToVideoPipeline"/> (<c>LuminaPipeline.TextToVideo()</c>):
/// <code>
/// using var video = await LuminaPipeline.TextToVideo().FromPretrained(folder).WithSolver(OdeMethod.Euler, steps: 30).BuildAsync();
/// </code>
/// Every <c>With…</c> checks its argument at once (naming it). Folders are local (see <see cref="TextToVideoLoader"/>);
/// a repo id needs <see cref="WithModelResolver"/>.
/// </summary>
public sealed class TextToVideoPipelineBuilder
{
    private string? source;
    private TextToImageSettings settings = TextToImagePresets.LuminaNext;
    private ModelLoadOptions load = new();
    private ModelResolver? resolver;

    /// <summary>The model: a local folder, or a repo id resolved through <see cref="WithModelResolver"/>.</summary>
    public TextToVideoPipelineBuilder FromPretrained(string modelIdOrFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelIdOrFolder);
        source = modelIdOrFolder;
        return this;
    }

    /// <summary>Starts from named settings (<see cref="TextToImagePresets"/>); later <c>With…</c> calls override them.</summary>
    public TextToVideoPipelineBuilder WithPreset(TextToImageSettings preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        preset.Validate();
        settings = preset;
        return this;
    }

    /// <summary>The ODE solver and, optionally, the number of steps.</summary>
    public TextToVideoPipelineBuilder WithSolver(OdeMethod solver, int? steps = null)
    {
        RequestValidation.Solver(solver, nameof(solver));
        RequestValidation.Steps(steps, nameof(steps));
        settings = settings with { Solver = solver, NumInferenceSteps = steps ?? settings.NumInferenceSteps };
        return this;
    }

    /// <summary>Number of solver steps.</summary>
    public TextToVideoPipelineBuilder WithSteps(int steps)
    {
        RequestValidation.Steps(steps, nameof(steps));
        settings = settings with { NumInferenceSteps = steps };
        return this;
    }

    /// <summary>Grid time shift (1 = none).</summary>
    public TextToVideoPipelineBuilder WithTimeShift(double shift)
    {
        RequestValidation.Positive(shift, nameof(shift), "Use 1 for no shift; upstream uses 4 for images.");
        settings = settings with { TimeShift = shift };
        return this;
    }

    /// <summary>Classifier-free guidance scale.</summary>
    public TextToVideoPipelineBuilder WithGuidanceScale(double scale)
    {
        RequestValidation.NonNegative(scale, nameof(scale), "1 disables guidance.");
        settings = settings with { GuidanceScale = scale };
        return this;
    }

    /// <summary>Device and dtype of the models.</summary>
    public TextToVideoPipelineBuilder WithDevice(Device device, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        load = load with { Device = device, DType = dtype ?? load.DType };
        return this;
    }

    /// <summary>Original layout: the video architecture (must have <see cref="NextDiTConfig.Video"/> set).</summary>
    public TextToVideoPipelineBuilder WithTransformerConfig(NextDiTConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (!config.Video) throw new ArgumentException("A text-to-video transformer config needs Video = true.", nameof(config));
        load = load with { TransformerConfig = config };
        return this;
    }

    /// <summary>Folders of the text encoder, tokenizer and VAE (when the model folder has none).</summary>
    public TextToVideoPipelineBuilder WithComponents(string? textEncoder = null, string? tokenizer = null, string? vae = null)
    {
        load = load with
        {
            TextEncoderPath = textEncoder ?? load.TextEncoderPath,
            TokenizerPath = tokenizer ?? load.TokenizerPath,
            VaePath = vae ?? load.VaePath,
        };
        return this;
    }

    /// <summary>How repo ids become local folders.</summary>
    public TextToVideoPipelineBuilder WithModelResolver(ModelResolver modelResolver)
    {
        ArgumentNullException.ThrowIfNull(modelResolver);
        resolver = modelResolver;
        return this;
    }

    /// <summary>The settings built so far.</summary>
    public TextToImageSettings Settings => settings;

    /// <summary>Resolves the folder and loads the pipeline on a worker thread.</summary>
    /// <exception cref="InvalidOperationException"><see cref="FromPretrained"/> was not called.</exception>
    public async Task<TextToVideoPipeline> BuildAsync(CancellationToken cancellationToken = default)
    {
        var reference = source ?? throw new InvalidOperationException($"Call {nameof(FromPretrained)} before {nameof(BuildAsync)}.");
        var local = Directory.Exists(reference);
        var folder = await ModelReference.ResolveAsync(reference, ModelComponent.Pipeline, () => resolver, cancellationToken).ConfigureAwait(false);
        var (l, s) = (load, settings);
        var modelId = local ? Path.GetFullPath(reference) : reference;
        return await Task.Run(() => TextToVideoLoader.Load(folder, l, s, modelId, cancellationToken), cancellationToken).ConfigureAwait(false);
    }
}
