using System.Reflection;

namespace Lumina.Testing;

/// <summary>
/// Counts the types the five shipped packages export (public top-level and public nested types, as reflection's
/// <see cref="Assembly.GetExportedTypes"/> sees them). One home for the count, so the test and the bench agree.
/// </summary>
public static class PublicSurface
{
    /// <summary>The shipped packages, in layer order.</summary>
    public static readonly IReadOnlyList<string> Packages =
        ["Lumina.Core", "Lumina.Sampling", "Lumina.Modalities", "Lumina.Hub", "Lumina.Training"];

    /// <summary>The most exported types the five packages should have together (issue 15's bar; not met yet).</summary>
    public const int Budget = 170;

    /// <summary>
    /// The ratchet: today's count, which the test does not let grow. Lower it whenever types go internal, until it
    /// reaches <see cref="Budget"/>.
    /// </summary>
    public const int Ceiling = 169;

    /// <summary>Loads each package by name (it must be a dependency of the running app) and lists its exported types.</summary>
    public static IReadOnlyList<(string Package, IReadOnlyList<Type> Types)> Count() =>
        Packages.Select(name => (name, (IReadOnlyList<Type>)Assembly.Load(new AssemblyName(name)).GetExportedTypes()
                .OrderBy(t => t.FullName, StringComparer.Ordinal).ToList()))
            .ToList();

    /// <summary>One line per package and a total, as the test and the bench print them.</summary>
    public static string Describe(IReadOnlyList<(string Package, IReadOnlyList<Type> Types)> counts) =>
        string.Join(Environment.NewLine, counts.Select(c => $"{c.Package,-18} {c.Types.Count,4}"))
        + Environment.NewLine + $"{"total",-18} {counts.Sum(c => c.Types.Count),4} (ceiling {Ceiling}, bar {Budget})";
}
