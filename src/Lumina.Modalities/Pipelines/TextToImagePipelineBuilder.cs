using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Solvers;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// Fluent builder of a <see cref="TextToImagePipeline"/>. Every <c>With…</c> checks its argument at once (naming it) and
/// returns the builder; <see cref="BuildAsync"/> resolves the model and loads it.
/// </summary>
public sealed class TextToImagePipelineBuilder
{
    private string? source;
    private TextToImageSettings? basePreset;
    private SettingsOverrides overrides = new();
    private ModelLoadOptions load = new();
    private ModelResolver? resolver;
    private string? cacheFolder;
    private readonly List<(string Path, double Strength)> loraFiles = [];

    /// <summary>
    /// The model: a local folder (either layout), a single-file checkpoint (a ComfyUI <c>.safetensors</c>; its text
    /// encoder and VAE come from <see cref="WithComponents"/> or the family's repo), or a Hub repo id resolved through
    /// <see cref="WithModelResolver"/>.
    /// </summary>
    public TextToImagePipelineBuilder FromPretrained(string modelIdOrFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelIdOrFolder);
        source = modelIdOrFolder;
        return this;
    }

    /// <summary>
    /// Starts from named settings (<see cref="TextToImagePresets"/>); <c>With…</c> calls override them. Without a preset
    /// the family's upstream demo settings are used (Lumina-Next: midpoint; Lumina-T2I: Euler).
    /// </summary>
    public TextToImagePipelineBuilder WithPreset(TextToImageSettings preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        preset.Validate();
        basePreset = preset;
        return this;
    }

    /// <summary>The ODE solver and, optionally, the number of steps.</summary>
    public TextToImagePipelineBuilder WithSolver(OdeMethod solver, int? steps = null)
    {
        RequestValidation.Solver(solver, nameof(solver));
        RequestValidation.Steps(steps, nameof(steps));
        overrides = overrides with { Solver = solver, Steps = steps ?? overrides.Steps };
        return this;
    }

    /// <summary>The ODE solver by upstream name (<c>euler</c>, <c>midpoint</c>, <c>heun2</c>, <c>rk4</c>, <c>dopri5</c>).</summary>
    public TextToImagePipelineBuilder WithSolver(string solver, int? steps = null) => WithSolver(OdeSolver.ParseMethod(solver), steps);

    /// <summary>Number of solver steps.</summary>
    public TextToImagePipelineBuilder WithSteps(int steps)
    {
        RequestValidation.Steps(steps, nameof(steps));
        overrides = overrides with { Steps = steps };
        return this;
    }

    /// <summary>Grid time shift (4 upstream; 1 = none).</summary>
    public TextToImagePipelineBuilder WithTimeShift(double shift)
    {
        RequestValidation.Positive(shift, nameof(shift), "Use 1 for no shift; upstream uses 4.");
        overrides = overrides with { TimeShift = shift };
        return this;
    }

    /// <summary>Classifier-free guidance scale (4 upstream).</summary>
    public TextToImagePipelineBuilder WithGuidanceScale(double scale)
    {
        RequestValidation.NonNegative(scale, nameof(scale), "Upstream uses 4; 1 disables guidance.");
        overrides = overrides with { GuidanceScale = scale };
        return this;
    }

    /// <summary>The default negative prompt.</summary>
    public TextToImagePipelineBuilder WithNegativePrompt(string negativePrompt)
    {
        ArgumentNullException.ThrowIfNull(negativePrompt);
        overrides = overrides with { NegativePrompt = negativePrompt };
        return this;
    }

    /// <summary>
    /// The named system prompt (<see cref="Models.TextEncoders.Lumina2SystemPrompt.Names"/>: base, align, aesthetics,
    /// real, 4grid, none), prepended to every prompt and to a non-empty negative prompt. Lumina-Image 2.0's default is "real".
    /// </summary>
    public TextToImagePipelineBuilder WithSystemPrompt(string name)
    {
        RequestValidation.SystemPrompt(name, nameof(name));
        overrides = overrides with { SystemPrompt = name };
        return this;
    }

    /// <summary>Device and dtype of the models.</summary>
    public TextToImagePipelineBuilder WithDevice(Device device, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        load = load with { Device = device, DType = dtype ?? load.DType };
        return this;
    }

    /// <summary>Original layout: the DiT architecture by preset name (e.g. <c>NextDiT-2B-GQA</c>, <c>FlagDiT-5B</c>; see <see cref="Families.ModelFamilies.Preset"/>).</summary>
    public TextToImagePipelineBuilder WithTransformerPreset(string preset)
    {
        Families.ModelFamilies.Preset(preset);
        load = load with { TransformerPreset = preset };
        return this;
    }

    /// <summary>
    /// Original layout: an explicit architecture, of the type the folder's family builds (<see cref="NextDiTConfig"/> for
    /// Lumina-Next, <see cref="FlagDiTConfig"/> for Lumina-T2I).
    /// </summary>
    public TextToImagePipelineBuilder WithTransformerConfig(DiTConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        load = load with { TransformerConfig = config };
        return this;
    }

    /// <summary>
    /// Transformer weights from <paramref name="file"/> instead of the folder's (a fine-tuned or converted single-file
    /// checkpoint); the folder still gives the architecture and the other components.
    /// </summary>
    public TextToImagePipelineBuilder WithTransformerFile(string file)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        if (!File.Exists(file)) throw new FileNotFoundException($"Transformer file '{file}' does not exist.", file);
        load = load with { TransformerFile = Path.GetFullPath(file) };
        return this;
    }

    /// <summary>
    /// How a GGUF transformer file's quantized weights are held (<see cref="ModelLoadOptions.QuantizedWeights"/>):
    /// kept quantized and dequantized block by block (the default), or dequantized at load.
    /// </summary>
    public TextToImagePipelineBuilder WithQuantizedWeights(QuantizedWeightsMode mode)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Use KeepQuantized or DequantizeAtLoad.");
        load = load with { QuantizedWeights = mode };
        return this;
    }

    /// <summary>
    /// Applies a LoRA file once the pipeline is built (<see cref="TextToImagePipeline.LoadLora"/>, removable, strict);
    /// call it again to stack several, each with its own strength. The LoRAs are recorded in each image's metadata.
    /// </summary>
    /// <param name="path">The adapter file (kohya, ComfyUI or diffusers/PEFT; LoRA, LoHa or LoKr).</param>
    /// <param name="strength">Multiplies the update (1 = as trained).</param>
    public TextToImagePipelineBuilder WithLora(string path, double strength = 1.0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!double.IsFinite(strength))
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "The LoRA strength must be a finite number (1 = as trained, 0 = off).");
        if (!File.Exists(path)) throw new FileNotFoundException($"The LoRA file '{path}' does not exist.", path);
        loraFiles.Add((Path.GetFullPath(path), strength));
        return this;
    }

    /// <summary>
    /// Text encoder, tokenizer and VAE (needed for original-layout folders and single files without them): each a
    /// component folder, a Hub id, or a diffusers pipeline folder or repo holding <c>text_encoder/</c>, <c>tokenizer/</c>
    /// and <c>vae/</c>; the VAE may also be a single file (the FLUX <c>ae.safetensors</c>, for Lumina-Image 2.0).
    /// </summary>
    public TextToImagePipelineBuilder WithComponents(string? textEncoder = null, string? tokenizer = null, string? vae = null)
    {
        load = load with
        {
            TextEncoderPath = textEncoder ?? load.TextEncoderPath,
            TokenizerPath = tokenizer ?? load.TokenizerPath,
            VaePath = vae ?? load.VaePath,
        };
        return this;
    }

    /// <summary>All load options at once.</summary>
    public TextToImagePipelineBuilder WithLoadOptions(ModelLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        load = options;
        return this;
    }

    /// <summary>
    /// How repo ids become local folders. Default: Lumina.Hub (<see cref="HubModelResolver"/>) configured from the HF_*
    /// environment variables, caching in <see cref="WithCacheFolder"/> or the huggingface_hub cache.
    /// </summary>
    public TextToImagePipelineBuilder WithModelResolver(ModelResolver modelResolver)
    {
        ArgumentNullException.ThrowIfNull(modelResolver);
        resolver = modelResolver;
        return this;
    }

    /// <summary>Downloads through <paramref name="hub"/> (endpoint, token, cache and offline mode come from it).</summary>
    public TextToImagePipelineBuilder WithHub(Lumina.Hub.HubClient hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        resolver = HubModelResolver.Create(hub, load.PreferEma);
        return this;
    }

    /// <summary>Where the default Hub client caches downloads (default: the huggingface_hub cache).</summary>
    public TextToImagePipelineBuilder WithCacheFolder(string cacheFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheFolder);
        this.cacheFolder = cacheFolder;
        return this;
    }

    /// <summary>
    /// The settings built so far, over <paramref name="familySettings"/> (a family's settings for a folder,
    /// <see cref="Families.ImageModelFamily.SettingsFor"/>) unless a preset was chosen.
    /// </summary>
    public TextToImageSettings SettingsOver(TextToImageSettings familySettings)
    {
        ArgumentNullException.ThrowIfNull(familySettings);
        return overrides.ApplyTo(basePreset ?? familySettings);
    }

    /// <summary>The settings built so far for a Lumina-Next model.</summary>
    public TextToImageSettings Settings => SettingsOver(Families.LuminaNextFamily.Instance.DefaultSettings);

    /// <summary>
    /// Resolves the model (a local folder, or a repo id through the resolver), fetches the components an original-layout
    /// folder lacks (<see cref="ModelLoadOptions.DefaultTextEncoderRepo"/>, <see cref="ModelLoadOptions.DefaultVaeRepo"/>),
    /// and loads the pipeline on a worker thread.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="FromPretrained"/> was not called.</exception>
    public async Task<TextToImagePipeline> BuildAsync(CancellationToken cancellationToken = default)
    {
        var reference = source ?? throw new InvalidOperationException($"Call {nameof(FromPretrained)} with a folder or repo id before {nameof(BuildAsync)}.");
        var local = Directory.Exists(reference) || ModelFolder.IsSingleFileCheckpoint(reference);
        var folder = await ModelReference.ResolveAsync(reference, ModelComponent.Pipeline, EnsureResolver, cancellationToken).ConfigureAwait(false);
        var layout = ModelFolder.Open(folder, load.PreferEma);
        var family = Families.ModelFamilies.Detect<Families.ImageModelFamily>(layout, "text-to-image");
        var l = load with
        {
            TextEncoderPath = await ComponentAsync(load.TextEncoderPath, layout, "text_encoder",
                load.DefaultTextEncoderRepo ?? family.DefaultTextEncoderRepo, ModelComponent.TextEncoder, cancellationToken).ConfigureAwait(false),
            VaePath = family.NeedsVae(layout) || load.VaePath is not null
                ? await ComponentAsync(load.VaePath, layout, "vae", load.DefaultVaeRepo ?? family.DefaultVaeRepo, ModelComponent.Vae, cancellationToken).ConfigureAwait(false)
                : null,
            TokenizerPath = load.TokenizerPath is { } t && !Directory.Exists(t)
                ? await ResolveAsync(t, ModelComponent.TextEncoder, cancellationToken).ConfigureAwait(false)
                : load.TokenizerPath,
        };
        var s = SettingsOver(family.SettingsFor(layout));
        s.Validate();
        var modelId = local ? Path.GetFullPath(reference) : reference;
        var pipeline = await Task.Run(() => TextToImageLoader.Load(folder, l, s, modelId, cancellationToken), cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var (path, strength) in loraFiles)
                pipeline.LoadLora(path, strength);
            return pipeline;
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    private async Task<string?> ComponentAsync(string? given, ModelFolder layout, string subfolder, string? defaultRepo, ModelComponent kind,
        CancellationToken cancellationToken)
    {
        if (given is not null)
            return Directory.Exists(given) || File.Exists(given) || !ModelReference.IsHubIdShaped(given) ? given : await ResolveAsync(given, kind, cancellationToken).ConfigureAwait(false);
        if (layout.Component(subfolder) is { } inside) return inside;
        if (layout.Layout != ModelLayoutKind.Diffusers && !string.IsNullOrEmpty(defaultRepo))
            return await ResolveAsync(defaultRepo, kind, cancellationToken).ConfigureAwait(false);
        return null;
    }

    private Task<string> ResolveAsync(string reference, ModelComponent kind, CancellationToken cancellationToken) =>
        EnsureResolver()(reference, kind, cancellationToken);

    private ModelResolver EnsureResolver() =>
        resolver ??= HubModelResolver.Create(HubModelResolver.CreateDefaultClient(cacheFolder), load.PreferEma);

    /// <summary>What the <c>With…</c> calls set; each field left null keeps the family's (or the preset's) value.</summary>
    private sealed record SettingsOverrides
    {
        public OdeMethod? Solver { get; init; }

        public int? Steps { get; init; }

        public double? TimeShift { get; init; }

        public double? GuidanceScale { get; init; }

        public string? NegativePrompt { get; init; }

        public string? SystemPrompt { get; init; }

        public TextToImageSettings ApplyTo(TextToImageSettings s) => s with
        {
            Solver = Solver ?? s.Solver,
            NumInferenceSteps = Steps ?? s.NumInferenceSteps,
            TimeShift = TimeShift ?? s.TimeShift,
            GuidanceScale = GuidanceScale ?? s.GuidanceScale,
            NegativePrompt = NegativePrompt ?? s.NegativePrompt,
            SystemPrompt = SystemPrompt ?? s.SystemPrompt,
        };
    }
}
