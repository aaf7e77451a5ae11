using System.Diagnostics;
using System.Text;
using Lumina.Testing;

namespace Lumina.Samples.Tests;

/// <summary>
/// The web demo started as a real process (<c>dotnet Lumina.WebDemo.dll</c>) on 127.0.0.1 with a random port, serving a
/// tiny random Lumina-Next model in the diffusers layout. Stopped (its process tree killed) on dispose.
/// <para>Limits of the shared server: at most 1024 tokens (128×128 for this model: VAE ×2, patch 2), 1000 steps (so a
/// test can start a job that takes far longer than the test, then cancel it), 8 finished jobs kept.</para>
/// </summary>
public sealed class WebDemoServer : IAsyncLifetime, IAsyncDisposable
{
    private readonly TinyLuminaNextFolders _models = new();
    private readonly StringBuilder _output = new();
    private Process _process = null!;
    private readonly string? _modelArgument;
    private readonly IReadOnlyList<string> _arguments;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly bool _waitUntilReady;

    /// <summary>
    /// The shared fixture: the tiny model from a local folder, 32×48 and 2 steps by default. It is ready (the model
    /// loaded) before the first test runs: the token limits are only known once the model is, so a test that runs
    /// first would otherwise see its request accepted and checked later, in the queue.
    /// </summary>
    public WebDemoServer()
        : this(null, ["--width", "32", "--height", "48", "--steps", "2"], new Dictionary<string, string?>()) =>
        _waitUntilReady = true;

    private WebDemoServer(string? model, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment) =>
        (_modelArgument, _arguments, _environment) = (model, arguments, environment);

    /// <summary>A server (not started: call <see cref="InitializeAsync"/>) with its own <c>--model</c> (null = the tiny local folder), arguments and environment.</summary>
    public static WebDemoServer With(string? model, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment) =>
        new(model, arguments, environment);

    /// <summary>Steps (the pipeline's most) that, at <see cref="LongSide"/>², take far longer than any test waits (cancel it).</summary>
    public const int EndlessSteps = 1000;

    /// <summary>The largest side within the token limit: 128 (32 × 32 tokens).</summary>
    public const int LongSide = 128;

    /// <summary>The demo's base address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The server's process id (for its memory use).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The server's resident memory now, from /proc.</summary>
    public long ResidentBytes() =>
        long.Parse(File.ReadAllLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;

    /// <summary>The model the demo serves (the tiny folder unless another <c>--model</c> was given).</summary>
    public string Model => _modelArgument ?? _models.Diffusers;

    /// <summary>The tiny model's diffusers folder (also when the server serves another).</summary>
    public string TinyModelFolder => _models.Diffusers;

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
        string[] common = [SampleApps.WebDemo, "--model", _modelArgument ?? _models.Diffusers, "--port", "0", "--threads", "1",
            "--MaxTokens", "1024", "--MaxSteps", EndlessSteps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--KeepFinished", "8"];
        foreach (var a in common.Concat(_arguments))
            info.ArgumentList.Add(a);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in _environment)
            info.Environment[key] = value;
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
        if (_waitUntilReady)
            await WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>Polls <c>/api/info</c> until the model has loaded (state "ready"); throws with the output if it fails or times out.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = Address };
        var deadline = DateTime.UtcNow + timeout;
        string? state = null;
        while (DateTime.UtcNow < deadline)
        {
            using var info = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/info"));
            state = info.RootElement.GetProperty("state").GetString();
            if (state == "ready")
                return;
            if (state == "failed")
                break;
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"The web demo's model did not become ready (state {state ?? "unknown"}).\n{Output}");
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

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            _models.Dispose();
            return;
        }

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
