namespace Lumina.Models;

/// <summary>
/// The demo model this package ships: a 1.2M-parameter Next-DiT trained by Lumina.NET's own trainer to draw coloured
/// circles, squares and triangles at 32×32 from short lowercase captions (see its <c>README.md</c>). Its files are
/// copied next to your app, to <c>models/lumina-demo/</c> in the output folder; load it like any model folder:
/// <c>LuminaPipeline.TextToImage().FromPretrained(DemoModel.Path)</c>.
/// </summary>
public static class DemoModel
{
    /// <summary>The folder name under <c>models/</c> in the app's output folder.</summary>
    public const string FolderName = "lumina-demo";

    /// <summary>
    /// The demo model's folder: <c>models/lumina-demo</c> beside the app (<see cref="AppContext.BaseDirectory"/>).
    /// It exists when the app was built or published with this package (the files are content copied to the output).
    /// </summary>
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "models", FolderName);

    /// <summary>True when <see cref="Path"/> holds the model (its <c>model_index.json</c>).</summary>
    public static bool IsPresent => File.Exists(System.IO.Path.Combine(Path, "model_index.json"));
}
