using System.Diagnostics;
using System.Text;
using Lumina.Modalities.Tests.Pipelines;

namespace Lumina.Samples.Tests;

/// <summary>
/// The web demo started as a real process (<c>dotnet Lumina.WebDemo.dll</c>) on 127.0.0.1 with a random port, serving a
/// tiny random Lumina-Next model in the diffusers layout. Stopped (its process tree killed) on dispose.
/// </summary>
public sealed class WebDemoServer : IAsyncLifetime
{
    private readonly TinyLuminaNextFolders _models = new();
    private readonly StringBuilder _output = new();
    private Process _process = null!;

    /// <summary>The demo's base address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The server's process id (for its memory use).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The server's resident memory now, from /proc.</summary>
    public long ResidentBytes() =>
        long.Parse(File.ReadAllLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;

    /// <summary>The model folder the demo serves.</summary>
    public string Model => _models.Diffusers;

    /// <summary>Everything the process printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public async Task InitializeAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { SampleApps.WebDemo, "--model", _models.Diffusers, "--port", "0", "--width", "32", "--height", "48", "--steps", "2", "--threads", "1" })
            info.ArgumentList.Add(a);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        _process = Process.Start(info)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, listening);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, null);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != listening.Task)
            throw new InvalidOperationException($"The web demo did not start listening.\n{Output}");
        Address = await listening.Task;
    }

    private void OnLine(string? line, TaskCompletionSource<Uri>? listening)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        const string marker = "listening on ";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (listening is not null && at >= 0)
            listening.TrySetResult(new Uri(line[(at + marker.Length)..].Trim()));
    }

    public async Task DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _models.Dispose();
    }
}

/// <summary>The web demo tests share one server and run one after another (queue positions depend on it).</summary>
[CollectionDefinition(Name)]
public sealed class WebDemoCollection : ICollectionFixture<WebDemoServer>
{
    public const string Name = "web demo";
}
