using Lumina.DependencyInjection;
using Lumina.Hub;
using Lumina.Pipelines;

namespace Lumina.WebDemo;

/// <summary>Where the served model is: being downloaded, being loaded, ready, or failed to load.</summary>
public enum ModelState
{
    /// <summary>Reading the weights into memory.</summary>
    Loading,

    /// <summary>Downloading a Hub repo into the cache (the first run only).</summary>
    Downloading,

    /// <summary>Loaded; <see cref="ModelStatus.Limits"/> is known.</summary>
    Ready,

    /// <summary>The last load failed; <see cref="ModelStatus.Error"/> says why (the next request tries again).</summary>
    Failed,
}

/// <summary>What the loaded model makes by default, and the size arithmetic its limits need.</summary>
/// <param name="Width">The model's default width (its training resolution unless configured).</param>
/// <param name="Height">The model's default height.</param>
/// <param name="Steps">The model's default solver steps.</param>
/// <param name="SizeMultiple">Pixels per transformer token along each side (latent downscale × patch size).</param>
public sealed record ModelLimits(int Width, int Height, int Steps, int SizeMultiple)
{
    /// <summary>The transformer's image tokens for a <paramref name="width"/> × <paramref name="height"/> image (sides rounded up to whole tokens).</summary>
    public long TokensFor(int width, int height) =>
        ((long)width + SizeMultiple - 1) / SizeMultiple * (((long)height + SizeMultiple - 1) / SizeMultiple);

    /// <summary>Reads them from a loaded pipeline.</summary>
    public static ModelLimits Of(TextToImagePipeline pipeline) => new(
        pipeline.Settings.Width ?? SamplingSettings.DefaultSide,
        pipeline.Settings.Height ?? SamplingSettings.DefaultSide,
        pipeline.Settings.NumInferenceSteps,
        pipeline.SizeMultiple);
}

/// <summary>
/// The state of the served model, shared by the page (<c>/api/info</c>), the job views (a job waiting for the model shows
/// the loading or downloading stage) and the request validation (limits are in the model's tokens).
/// </summary>
public sealed class ModelStatus
{
    private readonly Lock _gate = new();
    private ModelState _state = ModelState.Loading;
    private DownloadProgress? _download;

    /// <summary>The state now.</summary>
    public ModelState State
    {
        get
        {
            lock (_gate)
                return _state;
        }
    }

    /// <summary>The latest download report while downloading.</summary>
    public DownloadProgress? Download
    {
        get
        {
            lock (_gate)
                return _state == ModelState.Downloading ? _download : null;
        }
    }

    /// <summary>Known once the model has loaded.</summary>
    public ModelLimits? Limits { get; private set; }

    /// <summary>Why the last load failed.</summary>
    public string? Error { get; private set; }

    /// <summary>The stage a job waiting for the model is in: <c>downloading</c> or <c>loading</c> (null when ready).</summary>
    public string? WaitingStage => State switch
    {
        ModelState.Downloading => "downloading",
        ModelState.Loading or ModelState.Failed => "loading",
        _ => null,
    };

    /// <summary>Gets the pipeline (loading it on first use, sharing a load in progress) and records the state as it goes.</summary>
    public async Task<TextToImagePipeline> GetPipelineAsync(ILuminaPipelines pipelines, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_state == ModelState.Failed)
                _state = ModelState.Loading;
        }

        try
        {
            var pipeline = await pipelines.GetTextToImageAsync("default", cancellationToken).ConfigureAwait(false);
            Limits ??= ModelLimits.Of(pipeline);
            lock (_gate)
                _state = ModelState.Ready;
            return pipeline;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            lock (_gate)
            {
                _state = ModelState.Failed;
                Error = e.Message.Split('\n')[0];
            }

            throw;
        }
    }

    /// <summary>Receives the Hub download's progress (the resolver is only called for Hub ids, never for local folders).</summary>
    internal IProgress<DownloadProgress> DownloadProgress => new Progress(this);

    /// <summary>The Hub download started or finished.</summary>
    internal void SetDownloading(bool downloading)
    {
        lock (_gate)
        {
            if (_state is ModelState.Loading or ModelState.Downloading)
                _state = downloading ? ModelState.Downloading : ModelState.Loading;
        }
    }

    private sealed class Progress(ModelStatus status) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            lock (status._gate)
                status._download = value;
        }
    }
}

/// <summary>Starts loading (or downloading) the model when the server starts, so the first request does not wait for all of it.</summary>
public sealed class ModelWarmup(ModelStatus status, ILuminaPipelines pipelines, ILogger<ModelWarmup> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await status.GetPipelineAsync(pipelines, stoppingToken);
            logger.LogInformation("Model loaded: {Limits}", status.Limits);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError("The model did not load: {Error}", e.Message.Split('\n')[0]);
        }
    }
}
