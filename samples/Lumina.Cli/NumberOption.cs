using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Lumina.Cli;

/// <summary>
/// Numeric options that parse their own text, so that a value such as <c>abc</c>, <c>1e3</c> or <c>12.5</c> for a
/// whole number is a one-line usage error (exit code 1) and a range check never sees an unparsed value.
/// </summary>
internal static class NumberOption
{
    /// <summary>An optional whole-number option; <paramref name="check"/> returns an error message or null.</summary>
    public static Option<T?> Optional<T>(string name, string? alias, string description, Func<T, string?>? check = null)
        where T : struct, IBinaryInteger<T>
    {
        var option = alias is null ? new Option<T?>(name) : new Option<T?>(name, alias);
        option.Description = description;
        option.CustomParser = r => Parse(r, name, check, NumberStyles.AllowLeadingSign, "a whole number");
        return option;
    }

    /// <summary>A whole-number option with a default.</summary>
    public static Option<T> WithDefault<T>(string name, string? alias, string description, T defaultValue, Func<T, string?>? check = null)
        where T : struct, IBinaryInteger<T>
    {
        var option = alias is null ? new Option<T>(name) : new Option<T>(name, alias);
        option.Description = description;
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = r => Parse(r, name, check, NumberStyles.AllowLeadingSign, "a whole number") ?? defaultValue;
        return option;
    }

    /// <summary>An optional decimal option (finite values only).</summary>
    public static Option<double?> OptionalReal(string name, string? alias, string description, Func<double, string?>? check = null)
    {
        var option = alias is null ? new Option<double?>(name) : new Option<double?>(name, alias);
        option.Description = description;
        option.CustomParser = r => ParseReal(r, name, check);
        return option;
    }

    /// <summary>A decimal option with a default (finite values only).</summary>
    public static Option<double> RealWithDefault(string name, string? alias, string description, double defaultValue, Func<double, string?>? check = null)
    {
        var option = alias is null ? new Option<double>(name) : new Option<double>(name, alias);
        option.Description = description;
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = r => ParseReal(r, name, check) ?? defaultValue;
        return option;
    }

    /// <summary>A check: at least <paramref name="min"/>.</summary>
    public static Func<T, string?> AtLeast<T>(string name, T min) where T : INumber<T> =>
        v => v < min ? $"{name} must be at least {min}; got {v}." : null;

    /// <summary>A check: within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Func<T, string?> Between<T>(string name, T min, T max) where T : INumber<T> =>
        v => v < min || v > max ? $"{name} must be between {min} and {max}; got {v}." : null;

    private static T? Parse<T>(ArgumentResult r, string name, Func<T, string?>? check, NumberStyles styles, string what)
        where T : struct, IBinaryInteger<T>
    {
        if (r.Tokens.Count == 0)
            return null;
        var text = r.Tokens[^1].Value;
        if (!T.TryParse(text, styles, CultureInfo.InvariantCulture, out var value))
        {
            r.AddError(IsWholeNumberText(text)
                ? $"{name} is out of range; got '{text}'."
                : $"{name} must be {what} (digits only, no decimals or exponent); got '{text}'.");
            return null;
        }

        if (check?.Invoke(value) is { } error)
            r.AddError(error);
        return value;
    }

    private static double? ParseReal(ArgumentResult r, string name, Func<double, string?>? check)
    {
        if (r.Tokens.Count == 0)
            return null;
        var text = r.Tokens[^1].Value;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            r.AddError($"{name} must be a number such as 4 or 2.5; got '{text}'.");
            return null;
        }

        if (check?.Invoke(value) is { } error)
            r.AddError(error);
        return value;
    }

    private static bool IsWholeNumberText(string text) =>
        text.TrimStart('-', '+') is { Length: > 0 } digits && digits.All(char.IsAsciiDigit);
}
