using System.Diagnostics;
using System.Text;

namespace Lumina.Samples.Tests;

/// <summary>The outcome of running a process to its end.</summary>
internal sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Non-empty stderr lines.</summary>
    public IReadOnlyList<string> ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

/// <summary>Runs <c>dotnet app.dll args</c> with a controlled environment and a time limit.</summary>
internal static class ProcessRun
{
    public static Task<ProcessResult> DotnetAsync(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null) =>
        RunAsync("dotnet", [dll, .. args], environment, timeout, workingDirectory);

    /// <summary>Runs the CLI and keeps its stdout as bytes (for <c>-o -</c>).</summary>
    public static async Task<(int ExitCode, byte[] StdOut, string StdErr)> LuminaBytesAsync(IEnumerable<string> args)
    {
        var info = Start("dotnet", [SampleApps.LuminaCli, .. args], null, null);
        using var process = Process.Start(info)!;
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        await copy;
        return (process.ExitCode, stdout.ToArray(), await stderr);
    }

    /// <summary>Runs <paramref name="fileName"/> to its end.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var info = Start(fileName, args, environment, workingDirectory);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} did not finish in {timeout ?? TimeSpan.FromSeconds(60)}.\n{await stdout}\n{await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo Start(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment, string? workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        // Keep the user's Hugging Face settings out of the tests; each test sets what it needs.
        foreach (var name in new[] { "HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE" })
            info.Environment.Remove(name);
        info.Environment["NO_COLOR"] = "1";
        // A null value removes the variable.
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            if (v is null)
                info.Environment.Remove(k);
            else
                info.Environment[k] = v;
        }

        return info;
    }

    public static Task<ProcessResult> LuminaAsync(params string[] args) => DotnetAsync(SampleApps.LuminaCli, args);

    public static Task<ProcessResult> LuminaAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        DotnetAsync(SampleApps.LuminaCli, args, environment);
}
