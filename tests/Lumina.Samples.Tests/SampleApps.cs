using System.Reflection;

namespace Lumina.Samples.Tests;

/// <summary>Where the build put each sample app's entry dll (recorded by the test project at build time).</summary>
internal static class SampleApps
{
    public static string LuminaCli => Path("LuminaCli");

    public static string WebDemo => Path("WebDemo");

    public static string QuickStart => Path("QuickStart");

    private static string Path(string key)
    {
        var value = typeof(SampleApps).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
            ?? throw new InvalidOperationException($"The test assembly records no path for {key}; rebuild the test project.");
        Assert.True(File.Exists(value), $"{key} was not built at {value}.");
        return value;
    }
}
