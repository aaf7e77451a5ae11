using Lumina.TestSupport;
using Xunit.Abstractions;

namespace Lumina.Training.Tests;

/// <summary>
/// Issue 15's bar: at most <see cref="PublicSurface.Budget"/> exported types across the five packages. Blocks and
/// helpers with no user outside their package are internal (the tests reach them through InternalsVisibleTo).
/// This project is the one that references all five packages. Per-package figures:
/// <c>dotnet run -c Release --project tests/Lumina.Benchmarks -- public-surface</c>.
/// </summary>
public sealed class PublicSurfaceTests(ITestOutputHelper output)
{
    [Fact]
    public void The_five_packages_export_at_most_the_budgeted_number_of_types()
    {
        var counts = PublicSurface.Count();
        output.WriteLine(PublicSurface.Describe(counts));
        Assert.Equal(PublicSurface.Packages.Count, counts.Count);
        Assert.All(counts, c => Assert.NotEmpty(c.Types));
        var total = counts.Sum(c => c.Types.Count);
        Assert.True(total <= PublicSurface.Budget,
            $"{total} exported types, over the budget of {PublicSurface.Budget}:{Environment.NewLine}{PublicSurface.Describe(counts)}");
    }
}
