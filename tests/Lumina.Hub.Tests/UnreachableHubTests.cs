using System.Net;
using System.Net.Sockets;
using Lumina.Hub;

namespace Lumina.Hub.Tests;

/// <summary>
/// A Hub that cannot be reached at all (a name that does not resolve, a port that refuses connections) fails on the
/// first attempt: retrying those cost about 30 s of silent backoff before (issue 18). No external traffic: the names
/// are under the reserved .invalid domain and the port is a closed one on 127.0.0.1.
/// </summary>
public sealed class UnreachableHubTests
{
    [Fact]
    public async Task ANameThatDoesNotResolve_IsNotRetried()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        HubClient client = env.CreateClient(o =>
        {
            o.Endpoint = "http://lumina-hub-test.invalid";
            o.MaxRetries = 5;
            o.InitialRetryDelay = TimeSpan.FromSeconds(2);
        });

        HubHttpException e = await Assert.ThrowsAsync<HubHttpException>(() => client.DownloadSnapshotAsync("org/model"));

        Assert.Equal(1, e.Attempts);
        Assert.Null(e.StatusCode);
        Assert.DoesNotContain(env.Logs, l => l.Contains("retry", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARefusedConnection_IsNotRetried_ButA503Is()
    {
        await using HubTestEnvironment env = await HubTestEnvironment.StartAsync();
        HubClient refused = env.CreateClient(o =>
        {
            o.Endpoint = $"http://127.0.0.1:{ClosedPort()}";
            o.MaxRetries = 5;
            o.InitialRetryDelay = TimeSpan.FromSeconds(2);
        });
        HubHttpException e = await Assert.ThrowsAsync<HubHttpException>(() => refused.DownloadSnapshotAsync("org/model"));
        Assert.Equal(1, e.Attempts);

        // A server that answers 503 is busy, not gone: still retried.
        env.Hub.AddRepo("org/busy", new FakeFile("model_index.json", "{}"u8.ToArray(), false));
        env.Hub.FaultsFor("org/busy", "model_index.json").PermanentHeadStatus = 503;
        HubClient client = env.CreateClient(o =>
        {
            o.MaxRetries = 2;
            o.InitialRetryDelay = TimeSpan.FromMilliseconds(10);
        });
        HubHttpException busy = await Assert.ThrowsAsync<HubHttpException>(() => client.DownloadFileAsync("org/busy", "model_index.json"));
        Assert.Equal(3, busy.Attempts);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
