using System.CommandLine;
using Lumina.Hub;

namespace Lumina.Cli;

/// <summary>
/// Runs a command's work and turns what it throws into the documented exit codes: a one-line cause on stderr,
/// and the full exception only with <c>--verbose</c>.
/// </summary>
internal static class CommandRunner
{
    /// <summary>The <c>--verbose</c> option, shared by every command.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Print full error details (stack traces) and extra diagnostics.",
        Recursive = true,
    };

    /// <summary>Sets <paramref name="command"/>'s action to <paramref name="work"/>, wrapped in the error handling.</summary>
    public static void SetAction(Command command, Func<ParseResult, CancellationToken, Task<int>> work) =>
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, cancellationToken, work));

    private static async Task<int> RunAsync(ParseResult parseResult, CancellationToken cancellationToken, Func<ParseResult, CancellationToken, Task<int>> work)
    {
        var verbose = parseResult.GetValue(Verbose);
        try
        {
            return await work(parseResult, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var code = Classify(ex);
            Console.Error.WriteLine($"error: {OneLine(ex)}");
            if (verbose)
                Console.Error.WriteLine(ex.ToString());
            return code;
        }
    }

    private static int Classify(Exception ex) => ex switch
    {
        UsageException => ExitCodes.Usage,
        // Library validation of a value the user typed (a width that is not a multiple of 16, an unknown solver).
        // Any other ArgumentException comes from data (a config.json field, a checkpoint), which is exit code 2.
        ArgumentException { ParamName: { } p } when OptionNames.ContainsKey(p) => ExitCodes.Usage,
        _ => ExitCodes.Failure,
    };

    /// <summary>Library parameter names and the options users type for them, so messages name what the user wrote.</summary>
    private static readonly Dictionary<string, string> OptionNames = new(StringComparer.Ordinal)
    {
        ["Width"] = "--width",
        ["Height"] = "--height",
        ["NumInferenceSteps"] = "--steps",
        ["Solver"] = "--solver",
        ["TimeShift"] = "--shift",
        ["GuidanceScale"] = "--guidance",
        ["Seed"] = "--seed",
        ["ImagesPerPrompt"] = "--count",
        ["DurationSeconds"] = "--duration",
        ["NegativePrompt"] = "--negative",
        ["SystemPrompt"] = "--system-prompt",
        ["Prompts"] = "the prompt",
        ["repoId"] = "the repo id", // HubPaths.ValidateRepoId
    };

    /// <summary>The first line of the message, prefixed with what kind of failure it is when that helps.</summary>
    internal static string OneLine(Exception ex)
    {
        var message = ex switch
        {
            OperationCanceledException => "cancelled.",
            HttpRequestException http => $"network error: {http.Message}",
            HubException hub => hub.Message,
            ArgumentException { ParamName: { } param } arg => Rename(StripParameterTail(arg.Message, param), param),
            _ => ex.Message,
        };
        return OneLine(message, ex.GetType().Name);
    }

    /// <summary>The first line of <paramref name="message"/>, noting how many lines were dropped.</summary>
    internal static string OneLine(string message, string fallback = "error")
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var first = lines.Length == 0 ? fallback : lines[0];
        if (lines.Length > 1)
            first += $" (+{lines.Length - 1} more lines; --verbose shows them)";
        return first;
    }

    // .NET appends " (Parameter 'x')" (and, for out-of-range values, "Actual value was …") to ArgumentException messages.
    private static string StripParameterTail(string message, string param)
    {
        var tail = $" (Parameter '{param}')";
        var at = message.IndexOf(tail, StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    private static string Rename(string message, string param) =>
        OptionNames.TryGetValue(param, out var option) && message.StartsWith(param, StringComparison.Ordinal)
            ? option + message[param.Length..]
            : message;
}
