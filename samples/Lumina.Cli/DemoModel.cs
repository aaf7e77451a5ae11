namespace Lumina.Cli;

/// <summary>The demo model the build copies next to the app (<c>models/lumina-demo</c>, see the repository's models/ folder).</summary>
internal static class DemoModel
{
    /// <summary>Its folder.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "models", "lumina-demo");
}
