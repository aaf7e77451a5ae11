using System.Diagnostics;
using System.Text;
using Lumina.Modalities.Tests.Pipelines;

namespace Lumina.Samples.Tests;

/// <summary>
/// The web demo started as a real process (<c>dotnet Lumina.WebDemo.dll</c>) on 127.0.0.1 with a random port, serving a
/// tiny random Lumina-Next model in the diffusers layout (or, with the other constructor, any model). Stopped (its
/// process tree killed) on dispose.
/// </summary>
public sealed class WebDemoServer : IAsyncLifetime
{
    private readonly TinyLuminaNextFolders? _models;
    private readonly string[] _modelArgs;
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

    /// <summary>Serves a tiny random Lumina-Next diffusers folder at 32×48.</summary>
    public WebDemoServer()
    {
        _models = new TinyLuminaNextFolders();
        Model = _models.Diffusers;
        _modelArgs = ["--model", Model, "--width", "32", "--height", "48"];
    }

    /// <summary>Serves <paramref name="model"/> (a folder, single file or Hub id) with further demo arguments (<c>--text-encoder</c>, <c>--vae</c>, sizes).</summary>
    public WebDemoServer(string model, params string[] arguments)
    {
        Model = model;
        _modelArgs = ["--model", model, .. arguments];
    }

    /// <summary>The model the demo serves.</summary>
    public string Model { get; }

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
        foreach (var a in (string[])[SampleApps.WebDemo, .. _modelArgs, "--port", "0", "--steps", "2", "--threads", "1"])
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
        _models?.Dispose();
    }
}

/// <summary>The web demo tests share one server and run one after another (queue positions depend on it).</summary>
[CollectionDefinition(Name)]
public sealed class WebDemoCollection : ICollectionFixture<WebDemoServer>
{
    public const string Name = "web demo";
}
