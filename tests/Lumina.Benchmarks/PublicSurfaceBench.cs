using Lumina.Testing;

namespace Lumina.Benchmarks;

/// <summary>
/// Prints how many types each shipped package exports (reflection), the total against issue 15's budget, and with
/// <c>--list</c> every exported type. The same count as <c>PublicSurfaceTests</c>; not a timing.
/// </summary>
public sealed class PublicSurfaceBench : IBenchCommand
{
    public string Name => "public-surface";

    public string Description => "exported types per package and in total against the ceiling and the bar (args: [--list])";

    public int Run(string[] args)
    {
        var counts = PublicSurface.Count();
        Console.WriteLine(PublicSurface.Describe(counts));
        if (args.Contains("--list"))
        {
            foreach (var (package, types) in counts)
            {
                Console.WriteLine($"## {package}");
                foreach (var type in types) Console.WriteLine($"  {type.FullName}");
            }
        }
        return counts.Sum(c => c.Types.Count) <= PublicSurface.Ceiling ? 0 : 1;
    }
}
