using Lumina.Sampling;
using Lumina.Models.TextEncoders;
using Lumina.Guidance;
using Lumina.Models.DiT;
using Lumina.Schedulers;
using Lumina.Solvers;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training.Shapes;

/// <summary>Settings of <see cref="ShapeAdherenceEvaluator.Evaluate(Lumina.Models.DiT.NextDiT, ICaptionEncoder, IReadOnlyList{ShapeScene}, ShapeEvaluationOptions?, CancellationToken)"/>.</summary>
public sealed record ShapeEvaluationOptions
{
    /// <summary>Image side in pixels (the model works in pixel space).</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>Solver steps (grid points − 1).</summary>
    public int Steps { get; init; } = 30;

    /// <summary>ODE method (upstream Next-T2I uses midpoint).</summary>
    public OdeMethod Method { get; init; } = OdeMethod.Midpoint;

    /// <summary>Classifier-free guidance scale (applied to all channels: pixels have no fourth latent channel).</summary>
    public double GuidanceScale { get; init; } = 4.0;

    /// <summary>Time shift of the grid (null = unshifted).</summary>
    public double? TimeShift { get; init; }

    /// <summary>Images generated per model batch.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Seed of the initial noise.</summary>
    public long Seed { get; init; }
}

/// <summary>
/// Generates one image per scene caption with a pixel-space Next-DiT (classifier-free guidance against the empty
/// caption, a flow-matching ODE solver from Lumina.Sampling) and scores each with <see cref="PromptAdherenceAnalyser"/>.
/// </summary>
public static class ShapeAdherenceEvaluator
{
    /// <summary>
    /// Scores images made by any generator (for example a <c>TextToImagePipeline</c> loaded from a folder, so the score
    /// covers the whole user path): <paramref name="generate"/> gets each scene and its index and returns the image.
    /// </summary>
    /// <param name="generate">Makes the image for a scene's caption (use the index for the seed).</param>
    /// <param name="scenes">The scenes whose captions are the prompts.</param>
    /// <param name="cancellationToken">Checked between images.</param>
    public static AdherenceSummary Evaluate(Func<ShapeScene, int, RgbImage> generate, IReadOnlyList<ShapeScene> scenes,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generate);
        ArgumentNullException.ThrowIfNull(scenes);
        if (scenes.Count == 0) throw new ArgumentException("Give at least one scene.", nameof(scenes));
        var results = new List<ShapeAdherence>(scenes.Count);
        for (var i = 0; i < scenes.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.Add(PromptAdherenceAnalyser.Score(scenes[i], generate(scenes[i], i)));
        }
        return AdherenceSummary.From(results);
    }

    /// <summary>Runs the evaluation.</summary>
    /// <param name="model">A pixel-space Next-DiT (3 input channels).</param>
    /// <param name="captions">The caption encoder it was trained with.</param>
    /// <param name="scenes">The scenes whose captions are the prompts.</param>
    /// <param name="options">Size, solver and guidance.</param>
    /// <param name="cancellationToken">Checked before every model call.</param>
    public static (AdherenceSummary Summary, IReadOnlyList<RgbImage> Images) Evaluate(NextDiT model, ICaptionEncoder captions,
        IReadOnlyList<ShapeScene> scenes, ShapeEvaluationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentNullException.ThrowIfNull(scenes);
        options ??= new ShapeEvaluationOptions();
        if (scenes.Count == 0) throw new ArgumentException("Give at least one scene.", nameof(scenes));
        if (model.Config.InChannels != 3) throw new ArgumentException($"Expected a pixel-space model with 3 channels; this one has {model.Config.InChannels}.", nameof(model));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);

        model.eval();
        var solver = OdeSolver.Create(options.Method);
        var grid = TimeGrid.Create(options.Steps + 1, options.TimeShift);
        using var generator = new Generator((ulong)options.Seed);
        var images = new List<RgbImage>();
        var results = new List<ShapeAdherence>();
        using var noGrad = no_grad();
        for (var first = 0; first < scenes.Count; first += options.BatchSize)
        {
            using var scope = NewDisposeScope();
            var batch = scenes.Skip(first).Take(options.BatchSize).ToList();
            var prompts = batch.Select(s => s.Caption).Concat(batch.Select(_ => "")).ToList();
            using var cap = captions.Encode(prompts);
            var noise = randn([batch.Count, 3, options.ImageSize, options.ImageSize], generator: generator);
            using var solution = FlowSampling.Run(model, noise, DiTConditioning.FromCaptions(cap), new FlowSamplingOptions
            {
                Grid = grid,
                Solver = solver,
                Guidance = new GuidanceOptions { Scale = options.GuidanceScale, Channels = GuidanceChannels.All },
            }, cancellationToken: cancellationToken);
            for (var i = 0; i < batch.Count; i++)
            {
                var image = RgbImage.FromTensor(solution.Final[i]);
                images.Add(image);
                results.Add(PromptAdherenceAnalyser.Score(batch[i], image));
            }
        }
        return (AdherenceSummary.From(results), images);
    }
}
