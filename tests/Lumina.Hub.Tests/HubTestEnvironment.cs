using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lumina.Hub.Tests;

/// <summary>A fake Hub plus a temporary cache and home folder, all removed on dispose.</summary>
public sealed class HubTestEnvironment : IAsyncDisposable
{
    private readonly List<ServiceProvider> _providers = [];

    private HubTestEnvironment(FakeHub hub, string root)
    {
        Hub = hub;
        Root = root;
        CacheDirectory = Path.Combine(root, "hub");
        HomeDirectory = Path.Combine(root, "home");
        Directory.CreateDirectory(CacheDirectory);
        Directory.CreateDirectory(HomeDirectory);
    }

    public FakeHub Hub { get; }

    public string Root { get; }

    public string CacheDirectory { get; }

    public string HomeDirectory { get; }

    /// <summary>Every log line written by clients made with <see cref="CreateClient"/>, at every level.</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    public static async Task<HubTestEnvironment> StartAsync()
    {
        string root = Path.Combine(Path.GetTempPath(), "lumina-hub-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        return new HubTestEnvironment(await FakeHub.StartAsync(), root);
    }

    /// <summary>A client registered through AddLuminaHub, pointed at the fake Hub, isolated from the machine's HF_* settings.</summary>
    public HubClient CreateClient(Action<HubOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new QueueLoggerProvider(Logs)));
        services.AddLuminaHub(o =>
        {
            o.Endpoint = Hub.Endpoint.ToString();
            o.CacheDirectory = CacheDirectory;
            o.HomeDirectory = HomeDirectory;
            o.Token = string.Empty;
            o.Offline = false;
            o.InitialRetryDelay = TimeSpan.FromMilliseconds(10);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(40);
            configure?.Invoke(o);
        });
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<HubClient>();
    }

    public string RepoFolder(string repoId) => Path.Combine(CacheDirectory, HubCache.RepoFolderName(repoId));

    public async ValueTask DisposeAsync()
    {
        foreach (ServiceProvider provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await Hub.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Bytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    public static string Sha256(string file)
    {
        using FileStream stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>A minimal valid safetensors file holding one float32 tensor "w" of <paramref name="floats"/> values.</summary>
    public static byte[] Safetensors(string tensorName, int floats, int seed)
    {
        string header = $"{{\"{tensorName}\":{{\"dtype\":\"F32\",\"shape\":[{floats}],\"data_offsets\":[0,{floats * 4}]}}}}";
        while (header.Length % 8 != 0)
        {
            header += " ";
        }

        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        byte[] result = new byte[8 + headerBytes.Length + (floats * 4)];
        BitConverter.TryWriteBytes(result.AsSpan(0, 8), (long)headerBytes.Length);
        headerBytes.CopyTo(result, 8);
        new Random(seed).NextBytes(result.AsSpan(8 + headerBytes.Length));
        return result;
    }

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(sink, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class QueueLogger(ConcurrentQueue<string> sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{structured}] {exception}");
        }
    }
}
