using Lumina.Hub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Lumina.DependencyInjection;

/// <summary><c>services.AddLumina(...)</c>.</summary>
public static class LuminaServiceCollectionExtensions
{
    /// <summary>
    /// Registers Lumina's options (validated: device, dtype, threads, cache folder), <see cref="ILuminaPipelines"/> and
    /// Lumina.Hub's client (repo ids are downloaded into <see cref="LuminaOptions.CacheFolder"/>; register your own
    /// <see cref="Pipelines.ModelResolver"/> to replace it).
    /// Add pipelines on the returned builder: <c>services.AddLumina().AddTextToImage("default", o => o.Model = "…")</c>.
    /// </summary>
    public static LuminaBuilder AddLumina(this IServiceCollection services, Action<LuminaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<LuminaOptions>();
        if (configure is not null) options.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LuminaOptions>, LuminaOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TextToImagePipelineOptions>, TextToImagePipelineOptionsValidator>());
        // Repo ids resolve through Lumina.Hub; LuminaOptions.CacheFolder becomes its cache unless HubOptions sets one.
        services.AddLuminaHub();
        services.AddOptions<HubOptions>().Configure<IOptions<LuminaOptions>>((hub, lumina) =>
        {
            if (hub.CacheDirectory is null && lumina.Value.CacheFolder is { } folder) hub.CacheDirectory = folder;
        });
        services.TryAddSingleton<ILuminaPipelines>(sp => ActivatorUtilities.CreateInstance<LuminaPipelines>(sp));
        return new LuminaBuilder(services);
    }
}
