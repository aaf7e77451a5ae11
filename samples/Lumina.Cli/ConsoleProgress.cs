using Lumina.Hub;
using Spectre.Console;

namespace Lumina.Cli;

/// <summary>
/// Spectre.Console progress bars on stderr, so stdout stays clean for results (paths) that scripts read.
/// They are drawn only when stderr is a terminal; redirected (scripts, CI) the work runs silently, so a failure
/// leaves exactly one line on stderr.
/// </summary>
internal static class ConsoleProgress
{
    private static readonly Lazy<IAnsiConsole> Console = new(() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(System.Console.Error),
    }));

    /// <summary>The console progress bars draw on (stderr).</summary>
    public static IAnsiConsole Error => Console.Value;

    /// <summary>Whether bars are drawn (stderr is an interactive terminal).</summary>
    public static bool Enabled => !System.Console.IsErrorRedirected && Error.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="work"/> under a spinner with <paramref name="status"/>.</summary>
    public static Task<T> RunStatusAsync<T>(string status, Func<Task<T>> work) =>
        Enabled ? Error.Status().StartAsync(Markup.Escape(status), _ => work()) : work();

    /// <summary>Runs a download with one bar per file.</summary>
    public static Task<T> RunDownloadAsync<T>(Func<IProgress<DownloadProgress>?, Task<T>> work) => !Enabled ? work(null) :
        NewProgress().StartAsync(async context =>
        {
            var reporter = new DownloadBars(context);
            var result = await work(reporter).ConfigureAwait(false);
            reporter.CompleteAll();
            return result;
        });

    /// <summary>
    /// Runs a model load under a "loading the model" spinner that turns into "downloading FILE (x of y MB)" while the
    /// Hub resolver fetches files.
    /// </summary>
    public static Task<T> RunLoadAsync<T>(Func<IProgress<DownloadProgress>?, Task<T>> work) => !Enabled ? work(null) :
        Error.Status().StartAsync("loading the model", context =>
        {
            var progress = new ActionProgress<DownloadProgress>(p =>
            {
                var total = p.TotalBytes is { } t and > 0 ? $" of {t / 1e6:0.#} MB" : "";
                context.Status(Markup.Escape(p.BytesDownloaded >= (p.TotalBytes ?? long.MaxValue)
                    ? "loading the model"
                    : $"downloading {p.File} ({p.BytesDownloaded / 1e6:0.#}{total} MB)"));
            });
            return work(progress);
        });

    /// <summary>Runs work that reports steps of a known total, with one bar.</summary>
    public static Task<T> RunStepsAsync<T>(string description, Func<ProgressTask?, Task<T>> work) => !Enabled ? work(null) :
        NewProgress(bytes: false).StartAsync(async context =>
        {
            var task = context.AddTask(Markup.Escape(description), maxValue: 1);
            var result = await work(task).ConfigureAwait(false);
            task.Value = task.MaxValue;
            return result;
        });

    private static Progress NewProgress(bool bytes = true) => Error.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(bytes
            ? [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new RemainingTimeColumn(), new SpinnerColumn()]
            : [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn()]);

    /// <summary>Turns Hub download reports (possibly from several threads) into Spectre tasks.</summary>
    private sealed class DownloadBars(ProgressContext context) : IProgress<DownloadProgress>
    {
        private readonly Dictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();

        public void Report(DownloadProgress value)
        {
            lock (_gate)
            {
                if (!_tasks.TryGetValue(value.File, out var task))
                {
                    task = context.AddTask(Markup.Escape(value.File), maxValue: Math.Max(1, value.TotalBytes ?? 1));
                    _tasks[value.File] = task;
                }

                if (value.TotalBytes is { } total && total > 0)
                    task.MaxValue = total;
                task.Value = value.BytesDownloaded;
            }
        }

        public void CompleteAll()
        {
            lock (_gate)
            {
                foreach (var task in _tasks.Values)
                    task.Value = task.MaxValue;
            }
        }
    }
}
