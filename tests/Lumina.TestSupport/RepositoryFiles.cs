namespace Lumina.Testing;

/// <summary>Files of this repository, found by walking up from the test binaries to the folder holding <c>Lumina.sln</c>.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> RootFolder = new(LocateRoot);

    /// <summary>The repository root (the folder with <c>Lumina.sln</c>).</summary>
    public static string Root => RootFolder.Value;

    /// <summary>The shipped demo model (<c>models/lumina-demo</c>, diffusers layout).</summary>
    public static string DemoModel => System.IO.Path.Combine(Root, "models", "lumina-demo");

    /// <summary>A file or folder under the root; throws when it does not exist.</summary>
    public static string Path(string relative)
    {
        var full = System.IO.Path.Combine(Root, relative);
        return File.Exists(full) || Directory.Exists(full) ? full : throw new FileNotFoundException($"{relative} is not in the repository at {Root}.", full);
    }

    private static string LocateRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Lumina.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No Lumina.sln above {AppContext.BaseDirectory}.");
    }
}
