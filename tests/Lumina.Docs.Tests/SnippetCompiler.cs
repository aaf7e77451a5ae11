using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Lumina.Docs.Tests;

/// <summary>
/// Compiles one <see cref="MarkdownSnippet"/> as a top-level program (with the SDK's implicit usings) against the
/// assemblies beside this test: the Lumina packages, their dependencies and the shared framework. Errors are reported
/// at the Markdown file and line (<c>#line</c> directives map the generated source back).
/// </summary>
public static partial class SnippetCompiler
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    private static readonly CSharpParseOptions Parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Preview);

    // What <ImplicitUsings>enable</ImplicitUsings> gives a console app.
    private static readonly SyntaxTree ImplicitUsings = CSharpSyntaxTree.ParseText(
        """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """, Parse, path: "ImplicitUsings.g.cs");

    /// <summary>The errors compiling <paramref name="snippet"/>, each as <c>file:line: CSxxxx message</c>; empty when it compiles.</summary>
    public static IReadOnlyList<string> Errors(MarkdownSnippet snippet)
    {
        var source = Source(snippet);
        var tree = CSharpSyntaxTree.ParseText(source, Parse, path: snippet.File, encoding: Encoding.UTF8);
        var compilation = CSharpCompilation.Create(
            "Snippet_" + Regex.Replace(snippet.ToString(), @"\W", "_"),
            [ImplicitUsings, tree],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS5001") // CS5001: a snippet of type declarations only has no Main
            .Select(d =>
            {
                var where = d.Location.GetMappedLineSpan();
                return $"{where.Path}:{where.StartLinePosition.Line + 1}: {d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
            })
            .Distinct()
            .ToList();
    }

    /// <summary>
    /// The program compiled: the context's using directives, the snippet's leading using directives, the context's
    /// statements (hidden), then the rest of the snippet, with <c>#line</c> directives so positions map to the Markdown.
    /// </summary>
    public static string Source(MarkdownSnippet snippet)
    {
        var contextLines = snippet.Context.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        var contextUsings = contextLines.Where(IsUsingDirective).ToList();
        var contextRest = contextLines.Where(l => !IsUsingDirective(l)).ToList();
        var lines = snippet.Code.Split('\n');
        var header = 0;
        while (header < lines.Length && (string.IsNullOrWhiteSpace(lines[header]) || lines[header].TrimStart().StartsWith("//", StringComparison.Ordinal) || IsUsingDirective(lines[header])))
            header++;

        // Each part starts with the #line directive that maps it: hidden for the context, the Markdown line for the snippet.
        var parts = new List<(string Directive, IEnumerable<string> Lines)>
        {
            ("#line hidden", contextUsings),
            ($"#line {snippet.Line} \"{snippet.File}\"", lines.Take(header)),
            ("#line hidden", contextRest),
            ($"#line {snippet.Line + header} \"{snippet.File}\"", lines.Skip(header)),
        };
        var source = new StringBuilder();
        foreach (var (directive, partLines) in parts)
            source.Append(directive).Append('\n').AppendJoin('\n', partLines).Append('\n');
        return source.ToString();
    }

    private static bool IsUsingDirective(string line) => UsingDirective().IsMatch(line);

    [GeneratedRegex(@"^\s*(global\s+)?using\s+(static\s+)?(\w+\s*=\s*)?[\w.]+(<[^;]*>)?\s*;\s*(//.*)?$")]
    private static partial Regex UsingDirective();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        // The assemblies beside this test (the packages and what they depend on) win over the shared framework's.
        var byName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        foreach (var path in platform.Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")))
        {
            if (IsManagedAssembly(path))
                byName[Path.GetFileNameWithoutExtension(path)] = path;
        }

        return [.. byName.Values.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            return pe.HasMetadata && pe.GetMetadataReader().IsAssembly;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
