using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Lumina.DependencyInjection;

/// <summary><c>services.AddLumina(...)</c>.</summary>
public static class LuminaServiceCollectionExtensions
{
    /// <summary>
    /// Registers Lumina's options (validated: device, dtype, threads, cache folder) and <see cref="ILuminaPipelines"/>.
    /// Add pipelines on the returned builder: <c>services.AddLumina().AddTextToImage("default", o => o.Model = "…")</c>.
    /// </summary>
    public static LuminaBuilder AddLumina(this IServiceCollection services, Action<LuminaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<LuminaOptions>();
        if (configure is not null) options.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LuminaOptions>, LuminaOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TextToImagePipelineOptions>, TextToImagePipelineOptionsValidator>());
        services.TryAddSingleton<ILuminaPipelines>(sp => ActivatorUtilities.CreateInstance<LuminaPipelines>(sp));
        return new LuminaBuilder(services);
    }
}
