using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Lumina.Hub;

/// <summary>
/// Shell-style patterns over repository paths, with huggingface_hub's semantics: <c>*</c> matches any run of
/// characters including '/', <c>?</c> one character, <c>[abc]</c> / <c>[!abc]</c> a set; a pattern ending in '/'
/// matches everything under that folder. Matching is case-sensitive.
/// </summary>
internal static class GlobPattern
{
    private static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="path"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(string pattern, string path)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(path);
        return Compiled.GetOrAdd(pattern, Translate).IsMatch(path);
    }

    /// <summary>
    /// Keeps the paths that match at least one of <paramref name="allow"/> (all, when it is null or empty) and none of
    /// <paramref name="ignore"/>.
    /// </summary>
    public static IEnumerable<string> Filter(IEnumerable<string> paths, IReadOnlyCollection<string>? allow, IReadOnlyCollection<string>? ignore)
    {
        foreach (string path in paths)
        {
            if (allow is { Count: > 0 } && !allow.Any(p => IsMatch(p, path)))
            {
                continue;
            }

            if (ignore is { Count: > 0 } && ignore.Any(p => IsMatch(p, path)))
            {
                continue;
            }

            yield return path;
        }
    }

    private static Regex Translate(string pattern)
    {
        if (pattern.EndsWith('/'))
        {
            pattern += "*";
        }

        var sb = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    int close = pattern.IndexOf(']', i + 2);
                    if (close < 0)
                    {
                        sb.Append(@"\[");
                        break;
                    }

                    string set = pattern[(i + 1)..close];
                    bool negate = set.StartsWith('!');
                    if (negate)
                    {
                        set = set[1..];
                    }

                    sb.Append('[').Append(negate ? "^" : string.Empty).Append(set.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("[", @"\[", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }
}
