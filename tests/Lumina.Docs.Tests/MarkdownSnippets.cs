using System.Text;
using System.Text.RegularExpressions;

namespace Lumina.Docs.Tests;

/// <summary>One <c>```csharp</c> block of a Markdown file.</summary>
/// <param name="File">The file, relative to the repository root (forward slashes).</param>
/// <param name="Line">The 1-based line of the block's first code line.</param>
/// <param name="Code">The block's code.</param>
/// <param name="Context">Code from a <c>&lt;!-- snippet-context: … --&gt;</c> comment just above the block: declarations the
/// reader is assumed to have (a loaded <c>model</c>, a <c>services</c> collection), compiled with the block but not shown.</param>
public sealed record MarkdownSnippet(string File, int Line, string Code, string Context)
{
    /// <summary>Shown as the test case's name: where the block is.</summary>
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>Finds the C# blocks of README.md and docs/*.md.</summary>
public static partial class MarkdownSnippets
{
    /// <summary>Every <c>```csharp</c> (or <c>```cs</c>, <c>```c#</c>) block of <c>README.md</c> and <c>docs/**/*.md</c> under <paramref name="root"/>.</summary>
    public static IEnumerable<MarkdownSnippet> In(string root)
    {
        var files = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            foreach (var snippet in Parse(relative, File.ReadAllLines(file)))
                yield return snippet;
        }
    }

    /// <summary>The C# blocks of one file's <paramref name="lines"/>.</summary>
    public static IEnumerable<MarkdownSnippet> Parse(string file, IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var fence = Fence().Match(lines[i]);
            if (!fence.Success)
                continue;
            var marker = fence.Groups["marker"].Value;
            var language = fence.Groups["lang"].Value.Trim().ToLowerInvariant();
            var start = i + 1;
            var end = start;
            while (end < lines.Count && !lines[end].TrimStart().StartsWith(marker, StringComparison.Ordinal))
                end++;
            if (language is "csharp" or "cs" or "c#")
            {
                var indent = fence.Groups["indent"].Value.Length;
                var code = string.Join('\n', lines.Skip(start).Take(end - start).Select(l => l.Length >= indent && string.IsNullOrWhiteSpace(l[..indent]) ? l[indent..] : l.TrimStart()));
                yield return new MarkdownSnippet(file, start + 1, code, ContextAbove(lines, i));
            }

            i = end;
        }
    }

    /// <summary>The code of a <c>&lt;!-- snippet-context: … --&gt;</c> comment ending on the line just above <paramref name="fence"/>.</summary>
    private static string ContextAbove(IReadOnlyList<string> lines, int fence)
    {
        var last = fence - 1;
        if (last < 0 || !lines[last].TrimEnd().EndsWith("-->", StringComparison.Ordinal))
            return "";
        var first = last;
        while (first >= 0 && !lines[first].Contains("<!--", StringComparison.Ordinal))
            first--;
        if (first < 0)
            return "";
        var text = new StringBuilder();
        for (var k = first; k <= last; k++)
            text.Append(lines[k]).Append('\n');
        var comment = text.ToString();
        var open = comment.IndexOf("<!--", StringComparison.Ordinal) + 4;
        var body = comment[open..comment.LastIndexOf("-->", StringComparison.Ordinal)].Trim();
        const string Tag = "snippet-context:";
        return body.StartsWith(Tag, StringComparison.Ordinal) ? body[Tag.Length..].Trim() : "";
    }

    [GeneratedRegex(@"^(?<indent>\s*)(?<marker>```+|~~~+)(?<lang>[^`]*)$")]
    private static partial Regex Fence();
}
