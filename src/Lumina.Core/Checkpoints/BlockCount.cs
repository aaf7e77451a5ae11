using System.Globalization;

namespace Lumina.Checkpoints;

/// <summary>Reads a checkpoint header's block structure from tensor names alone (no data), for the header checks.</summary>
internal static class BlockCount
{
    /// <summary>
    /// How many distinct block indices N the names hold under any of <paramref name="prefixes"/> (<c>layers.N.…</c>,
    /// <c>model.layers.N.…</c>): the layer count a config must match.
    /// </summary>
    public static int Of(IEnumerable<string> names, params string[] prefixes)
    {
        var indices = new HashSet<int>();
        foreach (var name in names)
        {
            foreach (var prefix in prefixes)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var end = name.IndexOf('.', prefix.Length);
                if (end > prefix.Length && int.TryParse(name.AsSpan(prefix.Length, end - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                    indices.Add(i);
            }
        }
        return indices.Count;
    }
}
