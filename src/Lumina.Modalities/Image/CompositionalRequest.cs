namespace Lumina.Pipelines;

/// <summary>
/// Compositional generation (upstream Lumina-Next <c>lumina_next_compositional_generation</c>): the image is cut into a
/// grid of equal regions, each region's tokens cross-attend to their own prompt, and a global prompt conditions the
/// whole image through adaLN. Run it with <see cref="TextToImagePipeline.GenerateCompositionalAsync"/>
/// on a Lumina-Next (Next-DiT) pipeline.
/// <code>
/// new CompositionalRequest([["a full moon in the sky", "a small river sparkling with light"],
///                           ["an old brick house", "a cherry tree in bloom"]]) { Width = 1024, Height = 1024, Seed = 1 }
/// </code>
/// The sampling settings are <see cref="GenerationRequest"/>'s: Width must be a multiple of 16 · <see cref="Cols"/> and
/// Height of 16 · <see cref="Rows"/>, so each region holds whole patches; the negative prompt is cross-attended in every
/// region by the unconditional half (whose adaLN, as upstream, also reads the global prompt). Null settings take the
/// pipeline's <see cref="SamplingSettings"/>. Immutable; use <c>with</c> to vary it.
/// </summary>
public sealed record CompositionalRequest : GenerationRequest
{
    /// <summary>The most regions one request may have.</summary>
    public const int MaxRegions = 64;

    /// <summary>A grid of region prompts.</summary>
    /// <param name="regions">Rows top to bottom, each a list of prompts left to right; every row the same length.</param>
    public CompositionalRequest(IReadOnlyList<IReadOnlyList<string>> regions) => Regions = regions;

    /// <summary>Region prompts: rows top to bottom, each row left to right (upstream's "2x2 grids" is 2 rows of 2).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Regions { get; init; }

    /// <summary>
    /// The prompt whose pooled features drive adaLN for the whole image. Null = the region prompts joined with spaces,
    /// row by row (what the upstream demo does).
    /// </summary>
    public string? GlobalPrompt { get; init; }

    /// <summary>How many images the grid gives (1 to 64); image i uses seed + i.</summary>
    public int ImagesPerPrompt { get; init; } = 1;

    private protected override int OutputCount => ImagesPerPrompt;

    /// <summary>Rows of the region grid.</summary>
    public int Rows => Regions?.Count ?? 0;

    /// <summary>Columns of the region grid.</summary>
    public int Cols => Regions is { Count: > 0 } r ? r[0]?.Count ?? 0 : 0;

    /// <summary>The region prompts row-major (region r is row r / Cols, column r % Cols).</summary>
    public IReadOnlyList<string> RegionPrompts => Regions.SelectMany(row => row).ToList();

    /// <summary>The global prompt this request runs with (<see cref="GlobalPrompt"/> or the joined region prompts).</summary>
    public string EffectiveGlobalPrompt => GlobalPrompt ?? string.Join(" ", RegionPrompts);

    /// <summary>
    /// Checks every field and throws an <see cref="ArgumentException"/> whose <c>ParamName</c> names the first bad one.
    /// The pipeline calls it before any model runs (and then checks the sizes against the model).
    /// </summary>
    public override void Validate()
    {
        if (Regions is null) throw new ArgumentNullException(nameof(Regions), $"{nameof(Regions)} must not be null; pass at least one row of prompts.");
        if (Regions.Count == 0) throw new ArgumentException($"{nameof(Regions)} is empty; pass at least one row of prompts.", nameof(Regions));
        for (var i = 0; i < Regions.Count; i++)
        {
            if (Regions[i] is null || Regions[i].Count == 0)
                throw new ArgumentException($"{nameof(Regions)}[{i}] is {(Regions[i] is null ? "null" : "empty")}; every row needs at least one prompt.", nameof(Regions));
            if (Regions[i].Count != Regions[0].Count)
                throw new ArgumentException(
                    $"{nameof(Regions)}[{i}] has {Regions[i].Count} prompts but row 0 has {Regions[0].Count}; the grid must be rectangular (every row the same length).",
                    nameof(Regions));
            for (var j = 0; j < Regions[i].Count; j++)
                if (Regions[i][j] is null) throw new ArgumentException($"{nameof(Regions)}[{i}][{j}] is null; use \"\" for an empty prompt.", nameof(Regions));
        }
        if (Rows * Cols > MaxRegions)
            throw new ArgumentException($"A {Rows}×{Cols} grid has {Rows * Cols} regions; at most {MaxRegions} are allowed.", nameof(Regions));
        RequestValidation.PerPrompt(ImagesPerPrompt, 1);
        base.Validate();
        if (Width is int width && width % (16 * Cols) != 0)
            throw new ArgumentOutOfRangeException(nameof(Width), width,
                $"{nameof(Width)} must split into {Cols} regions of whole patches: a multiple of {16 * Cols} (16 · columns); got {width}.");
        if (Height is int height && height % (16 * Rows) != 0)
            throw new ArgumentOutOfRangeException(nameof(Height), height,
                $"{nameof(Height)} must split into {Rows} regions of whole patches: a multiple of {16 * Rows} (16 · rows); got {height}.");
    }
}
