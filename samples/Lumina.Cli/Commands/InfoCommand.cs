using System.CommandLine;
using Lumina.Cli.Inspection;

namespace Lumina.Cli.Commands;

/// <summary><c>lumina info PATH</c>: what a model folder or checkpoint holds.</summary>
internal static class InfoCommand
{
    private const int DefaultShown = 20;

    public static Command Create()
    {
        var path = new Argument<string>("path")
        {
            Description = "A model folder (diffusers or original layout), a component folder, a .safetensors file or a *.safetensors.index.json.",
        };
        var all = new Option<bool>("--all") { Description = $"List every tensor, not just the first {DefaultShown} of each component." };
        var command = new Command("info", "Show what a model folder or checkpoint holds: family, layout, parameter count, dtypes, tensors.") { path, all };
        CommandRunner.SetAction(command, (result, _) => Task.FromResult(Run(result.GetValue(path)!, result.GetValue(all))));
        return command;
    }

    private static int Run(string path, bool all)
    {
        var inspection = ModelInspector.Inspect(path);
        Console.WriteLine(inspection.Path);
        Console.WriteLine($"  layout:     {inspection.FolderLayout}");
        if (inspection.PipelineClass is not null)
            Console.WriteLine($"  pipeline:   {inspection.PipelineClass}");
        if (FamilyDefaults.Describe(path) is { } family)
        {
            Console.WriteLine($"  family:     {family.Family}");
            if (family.Defaults is not null)
                Console.WriteLine($"  defaults:   {family.Defaults}");
        }
        if (inspection.Components.Count > 1)
            Console.WriteLine($"  parameters: {inspection.Components.Sum(c => c.Summary.Parameters):N0} in {inspection.Components.Count} components");
        // A closed-vocabulary model (the demo model) says what it knows.
        if (Directory.Exists(path) && Lumina.Pipelines.CaptionLanguage.ReadFrom(path) is { } language)
        {
            Console.WriteLine($"  captions:   {language.Description}");
            Console.WriteLine($"  size:       {language.NativeWidth}x{language.NativeHeight} only{(language.Lowercase ? "; prompts are lowercased" : "")}");
            Console.WriteLine($"  words:      {string.Join(' ', language.Words.Order(StringComparer.Ordinal))}");
            foreach (var example in language.Examples)
                Console.WriteLine($"  example:    {example}");
        }
        foreach (var (name, summary) in inspection.Components)
        {
            Console.WriteLine();
            Console.WriteLine($"  [{name}] {summary.Path}");
            Console.WriteLine($"    family:     {summary.Family}");
            Console.WriteLine($"    key names:  {summary.KeyLayout}");
            Console.WriteLine($"    files:      {summary.Files}");
            Console.WriteLine($"    tensors:    {summary.Tensors.Count}");
            Console.WriteLine($"    parameters: {summary.Parameters:N0}");
            Console.WriteLine($"    bytes:      {summary.Bytes:N0}");
            Console.WriteLine($"    dtypes:     {summary.DTypes}");
            foreach (var (key, value) in summary.Metadata)
                Console.WriteLine($"    metadata:   {key} = {value}");
            var shown = all ? summary.Tensors : summary.Tensors.Take(DefaultShown).ToList();
            foreach (var t in shown)
                Console.WriteLine($"      {t}");
            if (shown.Count < summary.Tensors.Count)
                Console.WriteLine($"      … {summary.Tensors.Count - shown.Count} more (use --all)");
        }

        foreach (var (name, what) in inspection.OtherParts)
        {
            Console.WriteLine();
            Console.WriteLine($"  [{name}] {what}");
        }

        return ExitCodes.Success;
    }
}
