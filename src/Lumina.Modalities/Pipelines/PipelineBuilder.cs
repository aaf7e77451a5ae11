using Lumina.Solvers;
using static TorchSharp.torch;

namespace Lumina.Pipelines;

/// <summary>
/// What every pipeline builder shares: the model reference (<see cref="FromPretrained"/>: a local folder, else a Hub
/// repo id resolved through <see cref="WithModelResolver"/>, <see cref="WithHub"/>, or by default Lumina.Hub configured
/// from the HF_* environment variables), device and dtype, component folders, and the default
/// <see cref="SamplingSettings"/> (a preset, then the <c>With…</c> overrides, over the family's settings for the folder).
/// Every <c>With…</c> checks its argument at once (naming it) and returns the builder.
/// </summary>
/// <typeparam name="TBuilder">The concrete builder, returned by every <c>With…</c>.</typeparam>
/// <typeparam name="TPipeline">The pipeline it builds.</typeparam>
public abstract class PipelineBuilder<TBuilder, TPipeline>
    where TBuilder : PipelineBuilder<TBuilder, TPipeline>
{
    private string? source;
    private SamplingSettings? basePreset;
    private readonly List<Func<SamplingSettings, SamplingSettings>> overrides = [];
    private ModelResolver? resolver;
    private string? cacheFolder;

    private protected PipelineBuilder()
    {
    }

    /// <summary>Device, dtype, component folders and architecture choices collected so far.</summary>
    private protected ModelLoadOptions Load { get; set; } = new();

    private TBuilder Self => (TBuilder)this;

    /// <summary>The settings of the family when no folder says otherwise (what <see cref="Settings"/> builds on).</summary>
    private protected abstract SamplingSettings FamilyDefaults { get; }

    /// <summary>
    /// The model: a local folder (or, for text-to-image, a single-file checkpoint), or a Hub repo id. A missing local
    /// path that could be a repo id is looked up on the Hub; see <see cref="ModelReference"/>.
    /// </summary>
    public TBuilder FromPretrained(string modelIdOrFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelIdOrFolder);
        source = modelIdOrFolder;
        return Self;
    }

    /// <summary>
    /// Starts from named settings (<see cref="TextToImagePresets"/>); <c>With…</c> calls override them. Without a preset
    /// the family's settings for the folder are used (its upstream demo settings, with the folder's scheduler shift).
    /// </summary>
    public TBuilder WithPreset(SamplingSettings preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        preset.Validate();
        basePreset = preset;
        return Self;
    }

    /// <summary>The ODE solver and, optionally, the number of steps.</summary>
    public TBuilder WithSolver(OdeMethod solver, int? steps = null)
    {
        RequestValidation.Solver(solver, nameof(solver));
        RequestValidation.Steps(steps, nameof(steps));
        return Override(o => o with { Solver = solver, NumInferenceSteps = steps ?? o.NumInferenceSteps });
    }

    /// <summary>The ODE solver by upstream name (<c>euler</c>, <c>midpoint</c>, <c>heun2</c>, <c>rk4</c>, <c>dopri5</c>, <c>dpm</c>).</summary>
    public TBuilder WithSolver(string solver, int? steps = null) => WithSolver(OdeSolver.ParseMethod(solver), steps);

    /// <summary>Number of solver steps.</summary>
    public TBuilder WithSteps(int steps)
    {
        RequestValidation.Steps(steps, nameof(steps));
        return Override(o => o with { NumInferenceSteps = steps });
    }

    /// <summary>Grid time shift (4 in the upstream image demos; 1 = none); it replaces a folder's dynamic shifting.</summary>
    public TBuilder WithTimeShift(double shift)
    {
        RequestValidation.Positive(shift, nameof(shift), "Use 1 for no shift; upstream uses 4.");
        return Override(o => o with { TimeShift = shift, DynamicShifting = null });
    }

    /// <summary>Classifier-free guidance scale (4 in the upstream image demos, 3 for music).</summary>
    public TBuilder WithGuidanceScale(double scale)
    {
        RequestValidation.NonNegative(scale, nameof(scale), "Upstream uses 4; 1 disables guidance.");
        return Override(o => o with { GuidanceScale = scale });
    }

    /// <summary>The default negative prompt.</summary>
    public TBuilder WithNegativePrompt(string negativePrompt)
    {
        ArgumentNullException.ThrowIfNull(negativePrompt);
        return Override(o => o with { NegativePrompt = negativePrompt });
    }

    /// <summary>
    /// The named system prompt (<see cref="Models.TextEncoders.Lumina2SystemPrompt.Names"/>: base, align, aesthetics,
    /// real, 4grid, none), prepended to every prompt and to a non-empty negative prompt. Lumina-Image 2.0's default is "real".
    /// </summary>
    public TBuilder WithSystemPrompt(string name)
    {
        RequestValidation.SystemPrompt(name, nameof(name));
        return Override(o => o with { SystemPrompt = name });
    }

    /// <summary>Device and dtype of the models.</summary>
    public TBuilder WithDevice(Device device, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        Load = Load with { Device = device, DType = dtype ?? Load.DType };
        return Self;
    }

    /// <summary>
    /// Text encoder, tokenizer and VAE (needed for original-layout folders and single files without them): each a
    /// component folder, a Hub id, or a diffusers pipeline folder or repo holding <c>text_encoder/</c>, <c>tokenizer/</c>
    /// and <c>vae/</c>; the VAE may also be a single file (the FLUX <c>ae.safetensors</c>, for Lumina-Image 2.0).
    /// </summary>
    public TBuilder WithComponents(string? textEncoder = null, string? tokenizer = null, string? vae = null)
    {
        Load = Load with
        {
            TextEncoderPath = textEncoder ?? Load.TextEncoderPath,
            TokenizerPath = tokenizer ?? Load.TokenizerPath,
            VaePath = vae ?? Load.VaePath,
        };
        return Self;
    }

    /// <summary>All load options at once.</summary>
    public TBuilder WithLoadOptions(ModelLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Load = options;
        return Self;
    }

    /// <summary>
    /// How repo ids become local folders. Default: Lumina.Hub (<see cref="HubModelResolver"/>) configured from the HF_*
    /// environment variables, caching in <see cref="WithCacheFolder"/> or the huggingface_hub cache.
    /// </summary>
    public TBuilder WithModelResolver(ModelResolver modelResolver)
    {
        ArgumentNullException.ThrowIfNull(modelResolver);
        resolver = modelResolver;
        return Self;
    }

    /// <summary>Downloads through <paramref name="hub"/> (endpoint, token, cache and offline mode come from it).</summary>
    public TBuilder WithHub(Lumina.Hub.HubClient hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        resolver = HubModelResolver.Create(hub, Load.PreferEma);
        return Self;
    }

    /// <summary>Where the default Hub client caches downloads (default: the huggingface_hub cache).</summary>
    public TBuilder WithCacheFolder(string cacheFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheFolder);
        this.cacheFolder = cacheFolder;
        return Self;
    }

    /// <summary>
    /// The settings built so far, over <paramref name="familySettings"/> (a family's settings for a folder,
    /// <see cref="Families.ImageModelFamily.SettingsFor"/>) unless a preset was chosen.
    /// </summary>
    public SamplingSettings SettingsOver(SamplingSettings familySettings)
    {
        ArgumentNullException.ThrowIfNull(familySettings);
        // The With… calls, in order, over the preset or the family's settings: each changes only what it names.
        return overrides.Aggregate(basePreset ?? familySettings, (s, change) => change(s));
    }

    /// <summary>The settings built so far, over the family's defaults (before a folder's scheduler config is read).</summary>
    public SamplingSettings Settings => SettingsOver(FamilyDefaults);

    /// <summary>Resolves the model (a local folder, or a repo id through the resolver) and loads the pipeline on a worker thread.</summary>
    /// <exception cref="InvalidOperationException"><see cref="FromPretrained"/> was not called.</exception>
    public abstract Task<TPipeline> BuildAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The local folder of <see cref="FromPretrained"/>'s reference (downloading a repo id) and the model id the
    /// metadata records (the full local path, or the repo id).
    /// </summary>
    private protected async Task<(string Folder, string ModelId)> ResolveSourceAsync(CancellationToken cancellationToken)
    {
        var reference = source ?? throw new InvalidOperationException($"Call {nameof(FromPretrained)} with a folder or repo id before {nameof(BuildAsync)}.");
        var local = Directory.Exists(reference) || ModelFolder.IsSingleFileCheckpoint(reference);
        var folder = await ModelReference.ResolveAsync(reference, ModelComponent.Pipeline, EnsureResolver, cancellationToken).ConfigureAwait(false);
        return (folder, local ? Path.GetFullPath(reference) : reference);
    }

    /// <summary>Resolves a component repo id through the builder's resolver.</summary>
    private protected Task<string> ResolveAsync(string reference, ModelComponent kind, CancellationToken cancellationToken) =>
        EnsureResolver()(reference, kind, cancellationToken);

    private ModelResolver EnsureResolver() =>
        resolver ??= HubModelResolver.Create(HubModelResolver.CreateDefaultClient(cacheFolder), Load.PreferEma);

    private TBuilder Override(Func<SamplingSettings, SamplingSettings> change)
    {
        overrides.Add(change);
        return Self;
    }
}
