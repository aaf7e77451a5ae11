using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Tensors;

/// <summary>What makes bfloat16 matmuls fast (or not) on a device.</summary>
internal enum BFloat16Support
{
    /// <summary>No bf16 arithmetic: libtorch emulates it, far slower than float32 (about 1 % of fp32 on an AVX2 CPU).</summary>
    None,

    /// <summary>An x86 CPU with AVX512-BF16 (AMD Zen 4+, Intel Cooper Lake): bf16 matmuls about 2× fp32.</summary>
    Avx512Bf16,

    /// <summary>An x86 CPU with AMX-BF16 tiles (Intel Sapphire Rapids+): bf16 matmuls several times fp32.</summary>
    Amx,

    /// <summary>A CUDA device: bf16 is upstream's default there.</summary>
    Cuda,
}

/// <summary>The kinds of pipeline component the dtype policy chooses for.</summary>
internal enum ModelComponent
{
    /// <summary>The diffusion transformer (Next-DiT, Flag-DiT, the music DiT, Lumina-Image 2.0).</summary>
    Transformer,

    /// <summary>The text encoder (Gemma, Gemma-2, LLaMA, T5).</summary>
    TextEncoder,

    /// <summary>An autoencoder (the 2-D image VAEs, the 1-D mel VAE).</summary>
    Autoencoder,

    /// <summary>The vocoder (BigVGAN).</summary>
    Vocoder,
}

/// <summary>
/// The dtype policy: which weight dtype "auto" means on a device. bfloat16 where the hardware multiplies it natively
/// (CPUs with AVX512-BF16 or AMX, and CUDA), float32 everywhere else. An explicit dtype always wins over "auto".
/// <para>
/// CPU support is read from CPUID through <see cref="X86Base.CpuId"/>, which works the same on Linux, Windows and
/// macOS; AVX-512 also needs the OS to save its registers, which <see cref="Avx512F.IsSupported"/> checks. On Linux
/// the kernel's <c>/proc/cpuinfo</c> flags must agree (a hypervisor or kernel that masks a feature wins). Anything
/// else (Arm64, an older x86) gets float32.
/// </para>
/// </summary>
internal static class DTypePolicy
{
    private static readonly Lazy<BFloat16Support> Cpu = new(DetectCpu);

    /// <summary>The bf16 support of this process's CPU (detected once).</summary>
    public static BFloat16Support CpuBFloat16Support => Cpu.Value;

    /// <summary>The bf16 support of <paramref name="device"/> (null = CPU).</summary>
    public static BFloat16Support BFloat16SupportOf(Device? device)
        => device is not null && device.type == DeviceType.CUDA ? BFloat16Support.Cuda
            : device is null || device.type == DeviceType.CPU ? CpuBFloat16Support
            : BFloat16Support.None;

    /// <summary>The dtype "auto" picks for <paramref name="device"/>: bfloat16 with native bf16 support, else float32.</summary>
    public static ScalarType Auto(Device? device = null)
        => BFloat16SupportOf(device) == BFloat16Support.None ? ScalarType.Float32 : ScalarType.BFloat16;

    /// <summary>The dtype to use: <paramref name="requested"/> when given (an explicit choice always wins), else <see cref="Auto"/>.</summary>
    public static ScalarType Resolve(ScalarType? requested, Device? device = null) => requested ?? Auto(device);

    /// <summary>
    /// The dtype for one component: <paramref name="requested"/> when given; under "auto", <see cref="Auto"/> for the
    /// transformer and the text encoder, and float32 for autoencoders and the vocoder. Those run once per output, are
    /// small, and their error lands directly in pixels or samples (bf16 measured 1.5–1.7 % of the largest magnitude for
    /// the VAEs and 3.3 % for BigVGAN; docs/parity-report.md).
    /// </summary>
    public static ScalarType ForComponent(ModelComponent component, ScalarType? requested, Device? device = null)
        => requested ?? component switch
        {
            ModelComponent.Transformer or ModelComponent.TextEncoder => Auto(device),
            _ => ScalarType.Float32,
        };

    /// <summary>
    /// A one-line account of the choice, for logs, <c>lumina info</c> and image metadata, e.g.
    /// <c>bfloat16 (auto: CPU has AVX512-BF16)</c> or <c>float32 (explicit)</c>.
    /// </summary>
    public static string Explain(ScalarType? requested, Device? device = null)
    {
        var chosen = Resolve(requested, device);
        if (requested is not null) return $"{Name(chosen)} (explicit)";
        var why = BFloat16SupportOf(device) switch
        {
            BFloat16Support.Amx => "CPU has AMX-BF16",
            BFloat16Support.Avx512Bf16 => "CPU has AVX512-BF16",
            BFloat16Support.Cuda => "CUDA device",
            _ => device is not null && device.type != DeviceType.CPU ? $"no bf16 policy for {device.type}" : "CPU has neither AVX512-BF16 nor AMX",
        };
        return $"{Name(chosen)} (auto: {why})";
    }

    /// <summary>The name users type for a dtype: float32, bfloat16, float16 (else the enum name, lower case).</summary>
    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        ScalarType.Float64 => "float64",
        _ => dtype.ToString().ToLowerInvariant(),
    };

    private static BFloat16Support DetectCpu()
    {
        try
        {
            if (!X86Base.IsSupported) return BFloat16Support.None; // Arm64 and others: float32
            var (maxLeaf, _, _, _) = X86Base.CpuId(0, 0);
            if (maxLeaf < 7) return BFloat16Support.None;
            var (_, _, _, edx7) = X86Base.CpuId(7, 0);
            var (eax71, _, _, _) = X86Base.CpuId(7, 1);
            var amx = (edx7 & (1 << 22)) != 0 && (edx7 & (1 << 24)) != 0; // AMX-BF16 and AMX-TILE
            var avx512Bf16 = (eax71 & (1 << 5)) != 0 && Avx512F.IsSupported && Avx512BW.IsSupported;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && LinuxFlags() is { } flags)
            {
                // The kernel lists a feature only when it enables it (AMX needs the kernel's XSAVE support).
                amx &= flags.Contains("amx_bf16") && flags.Contains("amx_tile");
                avx512Bf16 &= flags.Contains("avx512_bf16");
            }
            return amx ? BFloat16Support.Amx : avx512Bf16 ? BFloat16Support.Avx512Bf16 : BFloat16Support.None;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or IOException or UnauthorizedAccessException)
        {
            return BFloat16Support.None;
        }
    }

    private static HashSet<string>? LinuxFlags()
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
            if (line.StartsWith("flags", StringComparison.Ordinal))
                return new HashSet<string>(line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        return null;
    }
}
