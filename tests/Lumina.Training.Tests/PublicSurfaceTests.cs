using Lumina.Testing;
using Xunit.Abstractions;

namespace Lumina.Training.Tests;

/// <summary>
/// Issue 15's public-surface bar, as a ratchet: the five packages may not export more than
/// <see cref="PublicSurface.Ceiling"/> types (the bar is <see cref="PublicSurface.Budget"/>). Blocks and helpers with no
/// user outside their package are internal; the tests reach them through InternalsVisibleTo. This project references all
/// five packages. Per-package figures: <c>dotnet run --project tests/Lumina.Benchmarks -- public-surface [--list]</c>.
/// </summary>
public sealed class PublicSurfaceTests(ITestOutputHelper output)
{
    [Fact]
    public void The_five_packages_export_no_more_types_than_the_ceiling()
    {
        var counts = PublicSurface.Count();
        output.WriteLine(PublicSurface.Describe(counts));
        Assert.Equal(PublicSurface.Packages.Count, counts.Count);
        Assert.All(counts, c => Assert.NotEmpty(c.Types));
        var total = counts.Sum(c => c.Types.Count);
        Assert.True(total <= PublicSurface.Ceiling,
            $"{total} exported types, over the ceiling of {PublicSurface.Ceiling} (bar {PublicSurface.Budget}); make new blocks and helpers internal:{Environment.NewLine}{PublicSurface.Describe(counts)}");
    }
}
