using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumina.Hub;

/// <summary>Registers <see cref="HubClient"/> in a service collection.</summary>
public static class HubServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="HubClient"/> (singleton) with its <see cref="HubOptions"/> and a named <see cref="HttpClient"/>
    /// (<see cref="HubClient.HttpClientName"/>) whose handler follows no redirects and decompresses nothing, as the Hub
    /// protocol needs. Logged request headers are redacted, so the token never reaches a log.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options; anything left unset comes from the HF_* environment variables.</param>
    /// <returns>The Hub's named HTTP client (<see cref="HubClient.HttpClientName"/>), to customise further (proxy, extra
    /// message handlers).</returns>
    public static IHttpClientBuilder AddLuminaHub(this IServiceCollection services, Action<HubOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<HubOptions> options = services.AddOptions<HubOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(
            o =>
            {
                o.Validate();
                return true;
            },
            "HubOptions are invalid.");

        IHttpClientBuilder http = services
            .AddHttpClient(HubClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .RedactLoggedHeaders(_ => true);

        services.TryAddSingleton(sp => new HubClient(
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<IOptions<HubOptions>>(),
            sp.GetService<ILogger<HubClient>>()));
        return http;
    }
}
