using System.CommandLine;
using System.Globalization;
using Lumina.Cli;
using Lumina.Cli.Commands;

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
return await root.Parse(args).InvokeAsync();
