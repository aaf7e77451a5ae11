using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Tensors;

/// <summary>TorchSharp's CPU generator reproduces PyTorch's noise for a seed (golden part "rng").</summary>
[Collection(GlobalRandomCollection.Name)]
public sealed class RandomNumberTests
{
    [Fact]
    public void GlobalSeedMatchesPyTorch()
    {
        using var cases = Golden.OpenCases("rng");
        using var expected = cases.Read("cpu.manual_seed42.randn_2x4x8x8");
        manual_seed(42);
        using var actual = randn(2, 4, 8, 8);
        TensorAssert.Equal(expected, actual);
    }

    [Fact]
    public void GeneratorSeedMatchesPyTorch()
    {
        using var cases = Golden.OpenCases("rng");
        using var expected = cases.Read("cpu.generator1234.randn_1x4x16x12");
        using var generator = new Generator(1234);
        using var actual = randn([1, 4, 16, 12], generator: generator);
        TensorAssert.Equal(expected, actual);
    }
}

/// <summary>Tests that seed torch's global generator run alone, so no other test draws from it in between.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomCollection
{
    public const string Name = "Global random generator";
}
