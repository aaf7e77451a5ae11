using Lumina.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Lumina.DependencyInjection;

/// <summary>Returned by <c>services.AddLumina(...)</c>: registers named pipelines and adapters.</summary>
public sealed class LuminaBuilder
{
    internal LuminaBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers a named text-to-image pipeline. It is loaded on first use by <see cref="ILuminaPipelines"/>, shared
    /// (calls are serialized) and disposed with the container.
    /// </summary>
    /// <param name="name">The pipeline's name (default "default").</param>
    /// <param name="configure">Model, settings and component folders.</param>
    public LuminaBuilder AddTextToImage(string name, Action<TextToImagePipelineOptions> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddOptions<TextToImagePipelineOptions>(name).Configure(configure);
        return this;
    }

    /// <summary>Registers the pipeline named "default".</summary>
    public LuminaBuilder AddTextToImage(Action<TextToImagePipelineOptions> configure) => AddTextToImage("default", configure);

#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI 10.x; this adapter tracks it.
    /// <summary>
    /// Registers the named text-to-image pipeline as the Microsoft.Extensions.AI <see cref="IImageGenerator"/> through
    /// <c>AddImageGenerator</c>; its <c>DataContent</c> is PNG bytes. Use the returned builder for <c>UseLogging()</c> etc.
    /// </summary>
    public ImageGeneratorBuilder AddImageGenerator(string pipelineName = "default", ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pipelineName);
        return Services.AddImageGenerator(
            sp => new LuminaImageGenerator(ct => sp.GetRequiredService<ILuminaPipelines>().GetTextToImageAsync(pipelineName, ct), pipelineName),
            lifetime);
    }
#pragma warning restore MEAI001
}
