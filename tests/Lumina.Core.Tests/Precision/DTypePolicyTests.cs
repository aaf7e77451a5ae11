using Lumina.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Precision;

/// <summary>The dtype policy: explicit wins, "auto" follows the hardware, and CPU detection agrees with the kernel's flags.</summary>
public sealed class DTypePolicyTests
{
    [Fact]
    public void AnExplicitDTypeAlwaysWins()
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16 })
        {
            Assert.Equal(dtype, DTypePolicy.Resolve(dtype));
            foreach (var component in Enum.GetValues<ModelComponent>())
                Assert.Equal(dtype, DTypePolicy.ForComponent(component, dtype));
            Assert.EndsWith("(explicit)", DTypePolicy.Explain(dtype), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AutoPicksBf16ExactlyWhereTheHardwareMultipliesIt()
    {
        var support = DTypePolicy.CpuBFloat16Support;
        Assert.Equal(support == BFloat16Support.None ? ScalarType.Float32 : ScalarType.BFloat16, DTypePolicy.Auto());
        Assert.Equal(ScalarType.BFloat16, DTypePolicy.Auto(new Device(DeviceType.CUDA, 0)));
        Assert.Equal(BFloat16Support.Cuda, DTypePolicy.BFloat16SupportOf(new Device(DeviceType.CUDA, 0)));
        Assert.Equal(ScalarType.Float32, DTypePolicy.ForComponent(ModelComponent.Autoencoder, null, new Device(DeviceType.CUDA, 0)));
        Assert.Equal(ScalarType.Float32, DTypePolicy.ForComponent(ModelComponent.Vocoder, null));
        Assert.Equal(DTypePolicy.Auto(), DTypePolicy.ForComponent(ModelComponent.Transformer, null));
        Assert.StartsWith(DTypePolicy.Name(DTypePolicy.Auto()) + " (auto: ", DTypePolicy.Explain(null), StringComparison.Ordinal);
    }

    [Fact]
    public void CpuDetectionAgreesWithTheLinuxFlags()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/cpuinfo")) return;
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        var expected = flags.Contains("amx_bf16") && flags.Contains("amx_tile") ? BFloat16Support.Amx
            : flags.Contains("avx512_bf16") ? BFloat16Support.Avx512Bf16 : BFloat16Support.None;
        Assert.Equal(expected, DTypePolicy.CpuBFloat16Support);
    }
}
