using Lumina.Models.DiT;
using Lumina.Pipelines;

namespace Lumina.Families;

/// <summary>
/// The model-family registry: which family a folder or checkpoint is, and its presets. Builders, loaders, DI and the
/// CLI ask it, so a new family is one <see cref="ModelFamily"/> file, registered here (built-in families are listed in
/// <see cref="BuiltIn"/>; others call <see cref="Register"/> at start-up).
/// </summary>
public static class ModelFamilies
{
    private static readonly Lock Gate = new();

    // Most specific first: the pixel-space demo is a Lumina-Next folder without a VAE, and a Lumina-Image 2.0 checkpoint
    // has every key a Next-DiT checkpoint is recognised by (plus its refiners).
    private static readonly ModelFamily[] BuiltIn =
    [
        PixelSpaceDemoFamily.Instance,
        Lumina2Family.Instance,
        LuminaNextFamily.Instance,
        LuminaT2IFamily.Instance,
        LuminaMusicFamily.Instance,
    ];

    private static ModelFamily[] registered = [];

    /// <summary>Every family, registered ones first, in the order folders are tried.</summary>
    public static IReadOnlyList<ModelFamily> All
    {
        get
        {
            lock (Gate) return [.. registered, .. BuiltIn];
        }
    }

    /// <summary>Adds a family; it is tried before the built-in ones. Registering the same instance twice is a no-op.</summary>
    /// <exception cref="ArgumentException">Another family already has its <see cref="ModelFamily.Name"/>.</exception>
    public static void Register(ModelFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        lock (Gate)
        {
            if (registered.Contains(family)) return;
            if (registered.Concat(BuiltIn).Any(f => string.Equals(f.Name, family.Name, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"A model family named '{family.Name}' is already registered.", nameof(family));
            registered = [family, .. registered];
        }
    }

    /// <summary>The family with this <see cref="ModelFamily.Name"/> (case-insensitive), or null.</summary>
    public static ModelFamily? ByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(f => string.Equals(f.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The first family that recognises <paramref name="folder"/>.</summary>
    /// <exception cref="LuminaException">No registered family does.</exception>
    public static ModelFamily Detect(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return All.FirstOrDefault(f => f.Recognizes(folder)) ?? throw new LuminaException(
            $"'{folder.Path}' ({folder.Layout} layout{(folder.TransformerClass is { } c ? $", transformer {c}" : "")}) is not a model family Lumina.NET knows; " +
            $"known: {string.Join(", ", All.Select(f => f.DisplayName))}.");
    }

    /// <summary>The family of <paramref name="folder"/>, which must be of type <typeparamref name="TFamily"/> (a task's families).</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="what">What the caller loads, for the error (for example "text-to-image").</param>
    /// <exception cref="LuminaException">The folder is another kind of model.</exception>
    public static TFamily Detect<TFamily>(ModelFolder folder, string what) where TFamily : ModelFamily
    {
        var family = Detect(folder);
        return family as TFamily ?? throw new LuminaException(
            $"'{folder.Path}' holds a {family.DisplayName} model ({family.Task}); it cannot be loaded as {what}.");
    }

    /// <summary>The family whose transformer checkpoint has these tensor names, and their layout; null when none claims them.</summary>
    public static (ModelFamily Family, ModelLayoutKind Layout)? DetectCheckpoint(IReadOnlyCollection<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        foreach (var family in All)
            if (family.RecognizeCheckpoint(tensorNames) is { } layout) return (family, layout);
        return null;
    }

    /// <summary>
    /// Looks a DiT preset up across families: <c>NextDiT-2B-GQA</c> (Lumina-Next-T2I/-SFT), <c>NextDiT-2B</c>,
    /// <c>FlagDiT-5B</c> (Lumina-T2I), … Case-insensitive; '_' and '-' alike; an upstream <c>_patch2</c> suffix is accepted.
    /// </summary>
    /// <exception cref="ArgumentException">No family has a preset of that name.</exception>
    public static (ModelFamily Family, DiTConfig Config) Preset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = Normalize(name);
        foreach (var family in All)
        {
            var canonical = family.PresetAliases.FirstOrDefault(a => Normalize(a.Key) == key).Value ?? name;
            foreach (var (presetName, config) in family.Presets)
                if (Normalize(presetName) == Normalize(canonical)) return (family, config);
        }
        throw new ArgumentException(
            $"Unknown DiT preset '{name}'; use {string.Join(", ", All.SelectMany(f => f.Presets.Select(p => p.Key)))}, or pass a config.", nameof(name));
    }

    private static string Normalize(string name)
    {
        var key = name.Trim().Replace('_', '-').ToLowerInvariant();
        return key.EndsWith("-patch2", StringComparison.Ordinal) ? key[..^"-patch2".Length] : key;
    }
}
