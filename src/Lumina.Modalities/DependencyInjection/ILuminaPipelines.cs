using Lumina.Pipelines;

namespace Lumina.DependencyInjection;

/// <summary>The named pipelines registered with <see cref="LuminaBuilder"/>, loaded lazily and shared.</summary>
public interface ILuminaPipelines
{
    /// <summary>
    /// The text-to-image pipeline named <paramref name="name"/>, loaded on first request (concurrent first requests
    /// share one load). Do not dispose it: the container does.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Its options (or <see cref="LuminaOptions"/>) are invalid.</exception>
    /// <exception cref="InvalidOperationException">No pipeline of that name is registered.</exception>
    Task<TextToImagePipeline> GetTextToImageAsync(string name = "default", CancellationToken cancellationToken = default);
}
