using System.CommandLine;
using Lumina.Cli;

var root = new RootCommand("Lumina.NET: run Lumina-T2X diffusion transformers from .NET.");
root.Subcommands.Add(InfoCommand.Create());
return root.Parse(args).Invoke();
