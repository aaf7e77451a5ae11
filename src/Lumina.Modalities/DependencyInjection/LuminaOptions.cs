using static TorchSharp.torch;

namespace Lumina.DependencyInjection;

/// <summary>Process-wide settings of <c>services.AddLumina(...)</c>, validated by <see cref="LuminaOptionsValidator"/>.</summary>
public sealed class LuminaOptions
{
    /// <summary>Device of the models: <c>cpu</c> (default), <c>cuda</c>, <c>cuda:1</c>, …</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Weight dtype: <c>float32</c> (default; fastest on most CPUs), <c>bfloat16</c> or <c>float16</c>.</summary>
    public string DType { get; set; } = "float32";

    /// <summary>Intra-op threads for TorchSharp (null = its default, one per core).</summary>
    public int? Threads { get; set; }

    /// <summary>Where downloaded models are kept (null = the huggingface_hub cache).</summary>
    public string? CacheFolder { get; set; }

    /// <summary>The parsed <see cref="Device"/>.</summary>
    public Device ParseDevice() => new(Device);

    /// <summary>The parsed <see cref="DType"/>.</summary>
    public ScalarType ParseDType() => DTypeNames.Parse(DType);
}

/// <summary>Names accepted for weight dtypes.</summary>
internal static class DTypeNames
{
    /// <summary>Parses <c>float32</c>/<c>fp32</c>, <c>bfloat16</c>/<c>bf16</c>, <c>float16</c>/<c>fp16</c>/<c>half</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static ScalarType Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "float32" or "fp32" or "float" => ScalarType.Float32,
            "bfloat16" or "bf16" => ScalarType.BFloat16,
            "float16" or "fp16" or "half" => ScalarType.Float16,
            _ => throw new ArgumentException($"Unknown dtype '{name}'; use float32, bfloat16 or float16.", nameof(name)),
        };
    }
}
