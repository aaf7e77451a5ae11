using Microsoft.Extensions.Options;

namespace Lumina.DependencyInjection;

/// <summary>Checks <see cref="LuminaOptions"/>: every failure names the property.</summary>
internal sealed class LuminaOptionsValidator : IValidateOptions<LuminaOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LuminaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Device))
            failures.Add($"{nameof(LuminaOptions.Device)} is empty; use cpu, cuda or cuda:N.");
        else if (!IsDevice(options.Device))
            failures.Add($"{nameof(LuminaOptions.Device)} '{options.Device}' is not a device; use cpu, cuda or cuda:N.");
        try
        {
            DTypeNames.Parse(options.DType ?? "");
        }
        catch (ArgumentException)
        {
            failures.Add($"{nameof(LuminaOptions.DType)} '{options.DType}' is not supported; use float32, bfloat16 or float16.");
        }
        if (options.Threads is { } t && (t < 1 || t > 1024))
            failures.Add($"{nameof(LuminaOptions.Threads)} must be between 1 and 1024 (or null for the default); got {t}.");
        if (options.CacheFolder is { } folder)
        {
            if (string.IsNullOrWhiteSpace(folder) || folder.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
                failures.Add($"{nameof(LuminaOptions.CacheFolder)} '{folder}' is not a valid path.");
            else if (File.Exists(folder))
                failures.Add($"{nameof(LuminaOptions.CacheFolder)} '{folder}' is a file; give a folder.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsDevice(string device)
    {
        var d = device.Trim().ToLowerInvariant();
        if (d is "cpu" or "cuda" or "mps") return true;
        return d.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(d.AsSpan(5), out var i) && i >= 0;
    }
}
