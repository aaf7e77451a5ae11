using Lumina.IO;
using Lumina.Pipelines;
using Lumina.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Lumina.Samples.Tests;

/// <summary>
/// What a new user runs into first (issue 18): bad option values, output paths that are not regular files, progress
/// on a terminal, and the OpenMP wait policy. Each runs the real CLI as a child process on the bundled demo model.
/// </summary>
public sealed class CliFirstUseTests : IDisposable
{
    private const string Prompt = "a red circle on the left on a white background";
    private readonly TempFolder _temp = new("lumina-cli-first-use");

    public void Dispose() => _temp.Dispose();

    private static string[] Quick(params string[] more) => ["--steps", "2", "--seed", "3", .. more];

    [Theory]
    [InlineData("generate|x|-W|abc", "--width")]
    [InlineData("generate|x|-W|1e3", "--width")]
    [InlineData("generate|x|-H|12.5", "--height")]
    [InlineData("generate|x|-s|abc", "--steps")]
    [InlineData("generate|x|-n|abc", "--count")]
    [InlineData("generate|x|--seed|abc", "--seed")]
    [InlineData("generate|x|-g|lots", "--guidance")]
    [InlineData("generate|x|-W|99999999999", "--width")]
    [InlineData("music|x|-m|y|-d|abc", "--duration")]
    [InlineData("train-demo|-s|abc", "--steps")]
    [InlineData("train-demo|--lr|fast", "--lr")]
    [InlineData("generate|x|--no-such-option", "--no-such-option")]
    [InlineData("generate|x|--seed|9223372036854775807|-n|2", "--seed")]
    [InlineData("generate|x|--solver|leapfrog", "--solver")]
    public async Task EveryUsageError_IsOneLineOnStderr_WithExitCode1_AndNothingOnStdout(string args, string named)
    {
        var run = await ProcessRun.LuminaAsync(args.Split('|'));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal("", run.StdOut);
        var line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(named, line);
        Assert.DoesNotContain("Unhandled exception", run.StdErr);
        Assert.DoesNotContain("(Parameter '", line);
    }

    [Fact]
    public async Task ASymlinkIsFollowed_ItsTargetReplaced_AndTheLinkKept()
    {
        var target = _temp.File("target.png");
        await File.WriteAllTextAsync(target, "old");
        var link = _temp.File("link.png");
        File.CreateSymbolicLink(link, target);

        var run = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", link, .. Quick()]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(FileKind.SymbolicLink, FileKinds.Of(link, followLinks: false));
        Assert.Equal(target, File.ResolveLinkTarget(link, returnFinalTarget: true)!.FullName);
        using var image = Image.Load<Rgb24>(target);
        Assert.Equal((32, 32), (image.Width, image.Height));
    }

    [Fact]
    public async Task AFifo_ALinkToAFifo_AndADanglingLink_AreRefusedBeforeGenerating_AndLeftAsTheyWere()
    {
        var fifo = _temp.File("pipe.png");
        MakeFifo(fifo);
        var toFifo = _temp.File("to-pipe.png");
        File.CreateSymbolicLink(toFifo, fifo);
        var dangling = _temp.File("dangling.png");
        File.CreateSymbolicLink(dangling, _temp.File("nothing-here.png"));

        foreach (var path in new[] { fifo, toFifo, dangling })
        {
            // The default model (the bundled demo) is never loaded: a bad path fails in the check before it.
            var run = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", path, .. Quick()]);
            Assert.True(run.ExitCode == 2, run.ToString());
            var line = Assert.Single(run.ErrorLines);
            Assert.Contains(path == dangling ? "does not exist" : "named pipe (FIFO)", line);
            Assert.Equal("", run.StdOut);
        }

        Assert.Equal(FileKind.Fifo, FileKinds.Of(fifo, followLinks: false));
        Assert.Equal(FileKind.SymbolicLink, FileKinds.Of(toFifo, followLinks: false));
        Assert.Equal(FileKind.SymbolicLink, FileKinds.Of(dangling, followLinks: false));
        Assert.Empty(Directory.GetFiles(_temp.Path, "*.tmp"));
    }

    [Fact]
    public async Task AFolder_APathUnderAFile_AndAnUnknownExtension_AreRefusedBeforeGenerating()
    {
        var folder = Directory.CreateDirectory(_temp.File("a-folder")).FullName;
        var file = _temp.File("plain.txt");
        await File.WriteAllTextAsync(file, "x");

        var asFolder = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", folder, .. Quick()]);
        Assert.True(asFolder.ExitCode == 2, asFolder.ToString());
        Assert.Contains("is a folder", Assert.Single(asFolder.ErrorLines));

        var underFile = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", Path.Combine(file, "x.png"), .. Quick()]);
        Assert.True(underFile.ExitCode == 2, underFile.ToString());
        Assert.Contains("not a folder", Assert.Single(underFile.ErrorLines));

        var unknown = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", _temp.File("x.heic"), .. Quick()]);
        Assert.True(unknown.ExitCode == 1, unknown.ToString());
        Assert.Contains("'.heic' is not a format", Assert.Single(unknown.ErrorLines));
        Assert.Equal(["a-folder", "plain.txt"], Directory.GetFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// A folder the process may not write to is refused before generating (exit 2, one line naming it). We run as root,
    /// and chmod does not stop root, so the CLI runs as the unprivileged user 65534 through util-linux's
    /// <c>setpriv</c> on a root-owned 0755 folder; as a non-root user, a 0555 folder does the same. If neither can be
    /// arranged the test is reported as skipped with the reason, never passed silently.
    /// </summary>
    [Fact]
    public async Task AReadOnlyFolder_IsRefusedBeforeGenerating()
    {
        if (OperatingSystem.IsWindows())
            throw new Exception("$XunitDynamicSkip$this test uses Unix file modes");
        var folder = Directory.CreateDirectory(_temp.File("read-only")).FullName;
        var output = Path.Combine(folder, "x.png");
        ProcessResult run;
        if (Environment.UserName != "root")
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            run = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", output, .. Quick()]);
        }
        else
        {
            // 0755 and owned by root: user 65534 (nobody) may read and enter it, not write. Its home is a folder it owns.
            File.SetUnixFileMode(_temp.Path, (UnixFileMode)Convert.ToInt32("755", 8));
            File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
            var home = Directory.CreateDirectory(_temp.File("nobody-home")).FullName;
            File.SetUnixFileMode(home, (UnixFileMode)Convert.ToInt32("777", 8));
            string[] unprivileged = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "dotnet", SampleApps.LuminaCli, "generate", Prompt, "-o", output, .. Quick()];
            var environment = new Dictionary<string, string?> { ["HOME"] = home, ["DOTNET_CLI_HOME"] = home, ["TMPDIR"] = home };
            try
            {
                run = await ProcessRun.RunAsync("setpriv", unprivileged, environment);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new Exception($"$XunitDynamicSkip$setpriv (util-linux) is not available to drop root, and chmod does not stop root: {e.Message}");
            }

            if (run.ExitCode != 2 && run.StdErr.Contains("setpriv:", StringComparison.Ordinal))
                throw new Exception($"$XunitDynamicSkip$setpriv could not switch to user 65534 here (a container without setuid rights?): {run.StdErr.Trim()}");
        }

        Assert.True(run.ExitCode == 2, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains($"the folder '{folder}' is not writable", line);
        Assert.Equal("", run.StdOut);
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Theory]
    [InlineData("x.jpg", "JPEG")]
    [InlineData("x.webp", "WEBP")]
    [InlineData("x.bmp", "BMP")]
    [InlineData("x.png", "PNG")]
    public async Task TheExtensionPicksTheFormat(string name, string format)
    {
        var path = _temp.File(Path.Combine("new", "folder", name));
        var run = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", path, .. Quick()]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(format, Image.DetectFormat(path).Name, ignoreCase: true);
    }

    [Fact]
    public async Task DashWritesThePngToStdout()
    {
        var run = await ProcessRun.LuminaBytesAsync(["generate", Prompt, "-o", "-", .. Quick()]);

        Assert.True(run.ExitCode == 0, run.StdErr);
        using var image = Image.Load<Rgb24>(run.StdOut);
        Assert.Equal(3L, GenerationMetadata.ReadFrom(image)!.Seed);

        var two = await ProcessRun.LuminaAsync(["generate", Prompt, "-o", "-", "-n", "2", .. Quick()]);
        Assert.True(two.ExitCode == 1, two.ToString());
        Assert.Contains("one file", Assert.Single(two.ErrorLines));
    }

    [Fact]
    public async Task InfoRefusesAFifo_WithoutBlocking()
    {
        var fifo = _temp.File("model.safetensors");
        MakeFifo(fifo);

        var run = await ProcessRun.DotnetAsync(SampleApps.LuminaCli, ["info", fifo], timeout: TimeSpan.FromSeconds(30));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("named pipe (FIFO)", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task ProgressOnATerminal_UsesHumanStageNames()
    {
        // `script` gives the CLI a pseudo-terminal on stderr, so it draws its progress as a user sees it.
        var typescript = _temp.File("typescript");
        var command = $"dotnet '{SampleApps.LuminaCli}' generate '{Prompt}' -o '{_temp.File("tty.png")}' --steps 4 --seed 3";
        var run = await ProcessRun.RunAsync("script", ["-qec", command, typescript],
            new Dictionary<string, string?> { ["TERM"] = "xterm", ["COLUMNS"] = "120", ["NO_COLOR"] = "1" });

        Assert.True(run.ExitCode == 0, run.ToString());
        var screen = await File.ReadAllTextAsync(typescript);
        Assert.Contains("sampling step", screen);
        Assert.DoesNotContain("encodingprompt", screen, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("byte", screen);
    }

    [Theory]
    [InlineData(null, "'0'")]               // unset: the CLI sets PASSIVE before libtorch loads
    [InlineData("ACTIVE", "'30000000000'")] // set by the user: kept
    public async Task OmpWaitPolicy_IsPassiveUnlessTheUserSetIt(string? userValue, string spinCount)
    {
        // libgomp prints the values it read at initialisation; PASSIVE means a spin count of 0 (unset: 300000).
        var run = await ProcessRun.LuminaAsync(new Dictionary<string, string?> { ["OMP_WAIT_POLICY"] = userValue, ["OMP_DISPLAY_ENV"] = "verbose" },
            ["generate", Prompt, "-o", _temp.File("omp.png"), .. Quick()]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"GOMP_SPINCOUNT = {spinCount}", run.StdErr);
    }

    [Theory]
    [InlineData("http://lumina-hub-test.invalid")] // a name that does not resolve
    [InlineData("closed-port")]                    // a local port nothing listens on
    public async Task ARelativeFolderThatIsMissingHere_FailsAtOnce_SayingBothReadings(string endpoint)
    {
        if (endpoint == "closed-port")
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            endpoint = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        }

        var environment = new Dictionary<string, string?> { ["HF_ENDPOINT"] = endpoint, ["HF_HUB_CACHE"] = _temp.File("hub"), ["HF_HOME"] = _temp.File("home") };
        var started = System.Diagnostics.Stopwatch.StartNew();
        // Run from a folder without models/: "models/lumina-demo" could be a Hub id (org/name), so the Hub is asked once.
        var run = await ProcessRun.DotnetAsync(SampleApps.LuminaCli, ["generate", "x", "-m", "models/lumina-demo", "-o", _temp.File("x.png")],
            environment, TimeSpan.FromSeconds(60), workingDirectory: _temp.Path);
        var elapsed = started.Elapsed;

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("'models/lumina-demo': no such local folder", Assert.Single(run.ErrorLines));
        Assert.Contains("as a Hub id, it could not be reached", run.StdErr);
        // Before the fix this spent about 31 s in retries; one attempt plus process start-up is a few seconds.
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"took {elapsed}");

        // "./models/lumina-demo" can only be a path: the Hub is not asked at all.
        var path = await ProcessRun.DotnetAsync(SampleApps.LuminaCli, ["generate", "x", "-m", "./models/lumina-demo", "-o", _temp.File("x.png")],
            environment, workingDirectory: _temp.Path);
        Assert.True(path.ExitCode == 2, path.ToString());
        Assert.Contains("no such local folder", Assert.Single(path.ErrorLines));
        Assert.DoesNotContain("Hub id, it could not", path.StdErr);
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        Assert.Equal(FileKind.Fifo, FileKinds.Of(path));
    }
}

/// <summary>Model configs that disagree with their checkpoints, or are damaged, fail fast naming the file and the field (issue 18).</summary>
public sealed class CliModelConfigTests : IDisposable
{
    private readonly TempFolder _temp = new("lumina-cli-config");

    public void Dispose() => _temp.Dispose();

    private string DemoCopy()
    {
        var demo = Path.Combine(Path.GetDirectoryName(SampleApps.LuminaCli)!, "models", "lumina-demo");
        var copy = _temp.File("demo");
        foreach (var file in Directory.EnumerateFiles(demo, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(demo, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return copy;
    }

    [Theory]
    [InlineData("transformer", "num_layers", "100000", "num_layers")]
    [InlineData("transformer", "hidden_size", "1000000000", "hidden_size")]
    [InlineData("transformer", "hidden_size", "-128", "hidden_size")]
    [InlineData("text_encoder", "vocab_size", "0", "vocab_size")]
    public async Task AConfigThatWouldExhaustMemoryOrIsOutOfRange_IsRefusedWithExitCode2_NamingFileAndField(string component, string field, string value, string named)
    {
        var run = await GenerateWithConfigFieldAsync(component, field, value);

        Assert.True(run.ExitCode == 2, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains(Path.Combine(component, "config.json"), line);
        Assert.Contains(named, line);
    }

    /// <summary>Runs <c>lumina generate</c> on a copy of the demo model whose <paramref name="component"/>/config.json has <paramref name="field"/> set to <paramref name="value"/>.</summary>
    private async Task<ProcessResult> GenerateWithConfigFieldAsync(string component, string field, string value)
    {
        var model = DemoCopy();
        var config = Path.Combine(model, component, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(config))!.AsObject();
        json[field] = System.Text.Json.Nodes.JsonValue.Create(long.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        await File.WriteAllTextAsync(config, json.ToJsonString());
        return await ProcessRun.LuminaAsync(["generate", "a red circle", "-m", model, "-o", _temp.File("x.png"), "--steps", "2"]);
    }

    /// <summary>
    /// The text encoder's config is compared with its checkpoint's header before anything is allocated: 100000 layers or
    /// a 1e9-wide model would exhaust memory, -128 cannot be built. One line names the file, the field and the checkpoint.
    /// </summary>
    [Theory]
    [InlineData("num_hidden_layers", "100000", "holds 2 layers")]
    [InlineData("hidden_size", "1000000000", "of width 64")]
    [InlineData("hidden_size", "-128", "must be positive")]
    [InlineData("num_hidden_layers", "-128", "must be positive")]
    [InlineData("vocab_size", "100000000", "with 52 rows")]
    public async Task ATextEncoderConfigThatDisagreesWithItsCheckpoint_IsRefusedBeforeAllocating(string field, string value, string reason)
    {
        var run = await GenerateWithConfigFieldAsync("text_encoder", field, value);

        Assert.True(run.ExitCode == 2, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains(Path.Combine("text_encoder", "config.json"), line);
        Assert.Contains($"{field} is {value}", line);
        Assert.Contains(reason, line);
    }

    [Theory]
    [InlineData("transformer")]
    [InlineData("text_encoder")]
    public async Task ADamagedConfigJson_IsNamed(string component)
    {
        var model = DemoCopy();
        var config = Path.Combine(model, component, "config.json");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config))[..40]);

        var run = await ProcessRun.LuminaAsync(["generate", "a red circle", "-m", model, "-o", _temp.File("x.png"), "--steps", "2"]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(Path.Combine(component, "config.json"), Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task MusicWithAnImageModel_SaysWhatTheFolderIs()
    {
        var run = await ProcessRun.LuminaAsync(["music", "calm piano", "-m", DemoCopy(), "-o", _temp.File("x.wav"), "-d", "1"]);

        Assert.True(run.ExitCode == 2, run.ToString());
        var line = Assert.Single(run.ErrorLines);
        Assert.Contains("text-to-image model", line);
        Assert.Contains("not Lumina-T2Music", line);
    }

    [Fact]
    public async Task TrainDemo_RefusesToReplaceAFolderWithoutForce()
    {
        var existing = DemoCopy();
        var before = Directory.GetFiles(existing, "*", SearchOption.AllDirectories).Length;

        var run = await ProcessRun.LuminaAsync(["train-demo", "--output", existing, "--steps", "1"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("--force", Assert.Single(run.ErrorLines));
        Assert.Equal(before, Directory.GetFiles(existing, "*", SearchOption.AllDirectories).Length);

        // The default is a new folder, never the bundled models/lumina-demo.
        var help = await ProcessRun.LuminaAsync(["train-demo", "--help"]);
        Assert.Contains("Default: lumina-demo-trained", help.StdOut);
    }
}
