using System.CommandLine;
using Lumina.Hub;

namespace Lumina.Cli.Commands;

/// <summary><c>lumina download REPO</c>: a Hugging Face Hub repository into the cache Python's huggingface_hub shares.</summary>
internal static class DownloadCommand
{
    public static Command Create()
    {
        var repo = new Argument<string>("repo") { Description = "The repository id, for example Alpha-VLLM/Lumina-Next-SFT-diffusers." };
        var revision = new Option<string>("--revision", "-r") { Description = "Branch, tag or commit.", DefaultValueFactory = _ => "main" };
        var include = new Option<string[]>("--include")
        {
            Description = "Only files matching these glob patterns (repeatable), for example '*.json' 'transformer/*'.",
            AllowMultipleArgumentsPerToken = true,
        };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Skip files matching these glob patterns (repeatable), for example '*.bin' '*.pth'.",
            AllowMultipleArgumentsPerToken = true,
        };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "The hub cache folder (default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub)." };
        var endpoint = new Option<string?>("--endpoint") { Description = "The Hub address (default: HF_ENDPOINT, else https://huggingface.co)." };
        var command = new Command(
            "download",
            "Download a Hub repository into the shared Hugging Face cache (resumes, retries, verifies sha256) and print the snapshot folder.\n" +
            "A token for gated repos comes from HF_TOKEN or the token file, as with huggingface_hub.")
        {
            repo, revision, include, exclude, cacheDir, endpoint,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(endpoint) is { } e && !Uri.TryCreate(e, UriKind.Absolute, out _))
                result.AddError($"--endpoint '{e}' is not an absolute URL such as https://huggingface.co.");
        });
        CommandRunner.SetAction(command, (result, ct) => RunAsync(
            result.GetValue(repo)!,
            result.GetValue(revision)!,
            result.GetValue(include),
            result.GetValue(exclude),
            result.GetValue(cacheDir),
            result.GetValue(endpoint),
            ct));
        return command;
    }

    private static async Task<int> RunAsync(string repo, string revision, string[]? include, string[]? exclude, string? cacheDir, string? endpoint, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
        var client = new HubClient(http, new HubOptions { CacheDirectory = cacheDir, Endpoint = endpoint });
        var options = new SnapshotDownloadOptions
        {
            Revision = revision,
            AllowPatterns = include is { Length: > 0 } ? include : null,
            IgnorePatterns = exclude is { Length: > 0 } ? exclude : null,
        };
        var folder = await ConsoleProgress.RunDownloadAsync(
            progress => client.DownloadSnapshotAsync(repo, options, progress, ct)).ConfigureAwait(false);
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToList();
        Console.Error.WriteLine($"{repo}@{revision}: {files.Count} files in {client.Cache.CacheDirectory}");
        Console.WriteLine(folder);
        return ExitCodes.Success;
    }
}
