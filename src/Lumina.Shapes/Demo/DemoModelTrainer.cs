using System.Diagnostics;
using System.Globalization;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using Lumina.Tensors;
using Lumina.Tokenizers;
using Lumina.Training.Shapes;
using Lumina.Training.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Lumina.Training.Demo;

/// <summary>
/// Trains the shapes demo model from scratch by its <see cref="DemoModelRecipe"/> and exports it as a diffusers folder
/// (see <see cref="DemoModelExporter"/>). The work folder keeps the tokenizer and upstream-layout checkpoints
/// (<c>results/checkpoints/&lt;step&gt;/</c>), so an interrupted run resumes where it stopped and ends exactly like an
/// uninterrupted one.
/// </summary>
public sealed class DemoModelTrainer
{
    private readonly ILogger _logger;

    /// <summary>Creates a trainer for <paramref name="recipe"/> (null = the shipped model's recipe).</summary>
    public DemoModelTrainer(DemoModelRecipe? recipe = null, ILogger? logger = null)
    {
        Recipe = recipe ?? new DemoModelRecipe();
        Recipe.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The recipe.</summary>
    public DemoModelRecipe Recipe { get; }

    /// <summary>Builds the tokenizer folder from the training captions (deterministic) unless it exists.</summary>
    public string EnsureTokenizer(string workFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(workFolder);
        var folder = Path.Combine(workFolder, "tokenizer");
        if (File.Exists(Path.Combine(folder, "tokenizer.model"))) return folder;
        var data = new ShapesDataset(Recipe.ImageSize, Recipe.DataSeed);
        var staging = folder + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        SentencePieceVocabularyBuilder.WriteTokenizerFolder(staging, Enumerable.Range(0, Recipe.TokenizerCorpusSize).Select(i => data.Scene(i).Caption));
        Directory.Move(staging, folder);
        return folder;
    }

    /// <summary>The text encoder with its seeded random weights, frozen (identical on every run of the recipe).</summary>
    public DecoderTextModel CreateTextEncoder(int vocabularySize)
    {
        var model = new DecoderTextModel(Recipe.TextEncoder with { VocabSize = vocabularySize });
        using var generator = new Generator((ulong)Recipe.TextEncoderSeed);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            // Gemma's RMSNorm scales by (1 + w): zero weights are the identity.
            if (name.Contains("norm", StringComparison.Ordinal)) p.zero_();
            else p.normal_(0, name.Contains("embed", StringComparison.Ordinal) ? 1.0 : 0.05, generator);
            p.requires_grad = false;
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// Trains to <see cref="DemoModelRecipe.Steps"/> (resuming from the latest checkpoint in
    /// <paramref name="workFolder"/>), then writes the EMA weights as a diffusers folder to <paramref name="outputFolder"/>.
    /// </summary>
    /// <param name="workFolder">Tokenizer and checkpoints; reuse it to resume.</param>
    /// <param name="outputFolder">The exported model folder (replaced atomically at the end).</param>
    /// <param name="progress">Receives loss and it/s after every step.</param>
    /// <param name="cancellationToken">Stops between steps after writing a checkpoint; the run can then be resumed.</param>
    public DemoTrainingResult Train(string workFolder, string outputFolder, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workFolder);
        ArgumentException.ThrowIfNullOrEmpty(outputFolder);
        Directory.CreateDirectory(workFolder);
        var tokenizerFolder = EnsureTokenizer(workFolder);
        var tokenizer = SentencePieceTextTokenizer.FromFolder(tokenizerFolder);
        using var gemma = CreateTextEncoder(tokenizer.VocabularySize);
        using var encoder = new GemmaCaptionEncoder(gemma, tokenizer);
        using var dit = new NextDiT(Recipe.Transformer);
        FlowMatchingTrainer.InitializeWeights(dit, Recipe.Training.Seed);
        var results = Path.Combine(workFolder, "results");
        var options = Recipe.Training with { OutputDirectory = results };
        using var trainer = new FlowMatchingTrainer(dit, encoder, options);
        if (TrainingCheckpoint.Latest(results) is { } latest)
        {
            trainer.LoadCheckpoint(latest);
            _logger.LogInformation("Resumed the demo model from {Checkpoint} at step {Step}.", latest, trainer.Step);
        }
        _logger.LogInformation("Training the demo model: {Parameters:N0} DiT parameters, {Steps} steps of {Batch} images at {Size}px.",
            dit.parameters().Sum(p => p.numel()), Recipe.Steps, options.BatchSize, Recipe.ImageSize);

        var clock = Stopwatch.StartNew();
        var startStep = trainer.Step;
        var last = trainer.Train(new ShapesDataset(Recipe.ImageSize, Recipe.DataSeed), Recipe.Steps, progress, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var checkpoint = TrainingCheckpoint.Latest(results)
            ?? throw new InvalidOperationException($"Training finished but '{results}' holds no checkpoint.");

        // Export the EMA weights, as upstream's demos load consolidated_ema.
        using var ema = new NextDiT(Recipe.Transformer);
        ema.LoadSafetensors(Path.Combine(checkpoint, TrainingCheckpoint.EmaFile));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["lumina.demo.steps"] = trainer.Step.ToString(CultureInfo.InvariantCulture),
            ["lumina.demo.batch"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
        };
        DemoModelExporter.Write(outputFolder, ema, gemma, tokenizerFolder, Recipe.ImageSize, metadata);
        _logger.LogInformation("Wrote the demo model to {Folder} (step {Step}).", outputFolder, trainer.Step);
        return new DemoTrainingResult(Path.GetFullPath(outputFolder), trainer.Step, trainer.Step - startStep, last?.Loss, seconds);
    }
}
