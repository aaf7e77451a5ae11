using System.CommandLine;
using System.Globalization;
using Lumina;
using Lumina.Cli;
using Lumina.Cli.Commands;

// Before anything touches TorchSharp: libgomp reads OMP_WAIT_POLICY once, when libtorch loads. Passive waiting keeps a
// busy machine from slowing every image down several times; a value the user set wins.
OpenMpDefaults.UsePassiveWaitUnlessSet();

// Output is read by scripts and tests: numbers always in the invariant culture (1,234,567).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var root = new RootCommand(
    "lumina: run Lumina-T2X flow-based diffusion transformers from .NET.\n" +
    "Inspect checkpoints, download models from the Hugging Face Hub into the shared cache, generate images and music, and fine-tune on a demo dataset.\n" +
    "Exit codes: 0 success, 1 usage error, 2 failure (one-line cause; add --verbose for details).");
root.Options.Add(CommandRunner.Verbose);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(DownloadCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(MusicCommand.Create());
root.Subcommands.Add(TrainDemoCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // A usage error is one line on stderr and exit code 1; stdout stays empty (it is for results).
    var command = parsed.CommandResult.Command;
    var name = command == root ? "lumina" : $"lumina {command.Name}";
    Console.Error.WriteLine($"error: {CommandRunner.OneLine(parsed.Errors[0].Message)} (see '{name} --help')");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();
