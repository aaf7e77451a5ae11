using System.Collections.Concurrent;
using Lumina.Hub;
using Lumina.Pipelines;
using Microsoft.Extensions.Options;

namespace Lumina.DependencyInjection;

/// <summary>Default <see cref="ILuminaPipelines"/>: builds each named pipeline once and disposes them with the container.</summary>
internal sealed class LuminaPipelines(
    IOptions<LuminaOptions> lumina,
    IOptionsMonitor<TextToImagePipelineOptions> textToImage,
    IEnumerable<IConfigureOptions<TextToImagePipelineOptions>> registrations,
    ModelResolver? resolver = null,
    HubClient? hub = null) : ILuminaPipelines, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<TextToImagePipeline>>> pipelines = new(StringComparer.Ordinal);
    private readonly HashSet<string> names = registrations.OfType<ConfigureNamedOptions<TextToImagePipelineOptions>>()
        .Select(r => r.Name).OfType<string>().ToHashSet(StringComparer.Ordinal);
    private static readonly Lock ThreadsLock = new();
    private volatile bool disposed;

    public Task<TextToImagePipeline> GetTextToImageAsync(string name = "default", CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!names.Contains(name))
            throw new InvalidOperationException(
                $"No text-to-image pipeline named '{name}' is registered; add it with services.AddLumina().AddTextToImage(\"{name}\", ...). Registered: {string.Join(", ", names.Order())}.");
        var global = lumina.Value; // throws OptionsValidationException when invalid
        var options = textToImage.Get(name);
        var lazy = pipelines.GetOrAdd(name, n => new Lazy<Task<TextToImagePipeline>>(() => BuildAsync(global, options)));
        return AwaitAsync(name, lazy, cancellationToken);
    }

    private async Task<TextToImagePipeline> AwaitAsync(string name, Lazy<Task<TextToImagePipeline>> lazy, CancellationToken cancellationToken)
    {
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            // A failed load (missing files, network) is not cached: the next call tries again.
            pipelines.TryRemove(new KeyValuePair<string, Lazy<Task<TextToImagePipeline>>>(name, lazy));
            throw;
        }
    }

    private async Task<TextToImagePipeline> BuildAsync(LuminaOptions global, TextToImagePipelineOptions options)
    {
        await Task.Yield(); // never load on the caller's thread inside GetOrAdd
        if (global.Threads is { } threads)
            lock (ThreadsLock) TorchSharp.torch.set_num_threads(threads);
        var load = options.Load with
        {
            Device = global.ParseDevice(),
            DType = global.ParseDType(),
            TransformerPreset = options.TransformerPreset ?? options.Load.TransformerPreset,
            TextEncoderPath = options.TextEncoder ?? options.Load.TextEncoderPath,
            TokenizerPath = options.Tokenizer ?? options.Load.TokenizerPath,
            VaePath = options.Vae ?? options.Load.VaePath,
        };
        var builder = LuminaPipeline.TextToImage().FromPretrained(options.Model!).WithLoadOptions(load);
        if (options.Settings is not null) builder.WithPreset(options.Settings);
        if (resolver is not null) builder.WithModelResolver(resolver);
        else if (hub is not null) builder.WithModelResolver(HubModelResolver.Create(hub, load.PreferEma));
        // Loading is not tied to the first caller's token: other callers share this load.
        var pipeline = await builder.BuildAsync(CancellationToken.None).ConfigureAwait(false);
        if (disposed)
        {
            pipeline.Dispose(); // the container went away while this was loading
            throw new ObjectDisposedException(nameof(ILuminaPipelines));
        }
        return pipeline;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var lazy in pipelines.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully) lazy.Value.Result.Dispose();
    }
}
