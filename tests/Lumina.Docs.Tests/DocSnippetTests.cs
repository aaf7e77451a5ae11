using Lumina.Testing;

namespace Lumina.Docs.Tests;

/// <summary>
/// Every C# snippet of README.md and docs/*.md compiles against the packages as they are now, so the docs cannot rot.
/// A snippet that needs something the reader already has (a loaded <c>model</c>) declares it in a
/// <c>&lt;!-- snippet-context: … --&gt;</c> comment just above its block; see docs/contributing-docs.md.
/// </summary>
public sealed class DocSnippetTests
{
    /// <summary>Each snippet, named by file and line.</summary>
    public static TheoryData<MarkdownSnippet> Snippets() => [.. MarkdownSnippets.In(RepositoryFiles.Root)];

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Compiles(MarkdownSnippet snippet)
    {
        var errors = SnippetCompiler.Errors(snippet);
        Assert.True(errors.Count == 0, $"The C# snippet at {snippet} does not compile:\n{string.Join('\n', errors)}");
    }

    [Fact]
    public void TheDocsHaveSnippets_AndTheFinderSeesThem()
    {
        var snippets = MarkdownSnippets.In(RepositoryFiles.Root).ToList();
        Assert.Contains(snippets, s => s.File == "README.md");
        Assert.True(snippets.Count >= 20, $"only {snippets.Count} snippets found");
    }

    [Fact]
    public void ABrokenSnippet_FailsNamingTheFileAndLine()
    {
        var lines = new[] { "Some text.", "", "```csharp", "using Lumina.Pipelines;", "", "var pipe = LuminaPipeline.TextToImage();", "pipe.NoSuchMethod();", "```" };
        var snippet = Assert.Single(MarkdownSnippets.Parse("docs/example.md", lines));

        var error = Assert.Single(SnippetCompiler.Errors(snippet));
        Assert.StartsWith("docs/example.md:7: CS1061", error);
    }

    [Fact]
    public void AContextComment_IsCompiledWithTheSnippet_ButErrorsStillPointAtTheMarkdown()
    {
        var lines = new[]
        {
            "<!-- snippet-context: using Lumina.Pipelines;",
            "var builder = LuminaPipeline.TextToImage(); -->",
            "```csharp",
            "using Lumina.Tensors;",
            "builder.FromPretrained(\"models/lumina-demo\");",
            "builder.Missing();",
            "```",
        };
        var snippet = Assert.Single(MarkdownSnippets.Parse("README.md", lines));

        Assert.Equal("README.md:6: CS1061", string.Join(' ', Assert.Single(SnippetCompiler.Errors(snippet)).Split(' ').Take(2)));
    }
}
