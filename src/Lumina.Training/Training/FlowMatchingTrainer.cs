using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;
using System.Diagnostics;
using Lumina.Tensors;
using Lumina.Training.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>
/// Trains a DiT with the rectified-flow objective as upstream Lumina does: per sample, caption dropout to "", t drawn
/// uniformly or logit-normally, x_t = t·x1 + (1 − t)·x0, MSE of the predicted velocity to x1 − x0; then global-norm
/// gradient clipping, AdamW and an EMA of the weights. With a <see cref="LoraNetwork"/> only the adapters train.
/// <para>
/// Every step's randomness comes from a generator seeded by (seed, step), and the batch from
/// <see cref="ITrainingData.GetBatch"/>(step), so a run resumed from a checkpoint continues exactly like an
/// uninterrupted one.
/// </para>
/// </summary>
public sealed class FlowMatchingTrainer : IDisposable
{
    private readonly IDiffusionTransformer _model;
    private readonly ICaptionEncoder _captions;
    private readonly LoraNetwork? _lora;
    private readonly AdamWOptimizer _optimizer;
    private readonly ExponentialMovingAverage _ema;
    private readonly (string Name, Parameter Param)[] _trained;

    /// <summary>
    /// Initialises a Lumina DiT for training from scratch, following upstream's rules by parameter name: Xavier-uniform
    /// linears with zero biases; N(0, 0.02) for the timestep MLP, the caption projection and <c>pad_token</c>; ones/zeros
    /// for norms; zero adaLN modulations, attention gates and final projection (so every block starts as the identity).
    /// Deterministic for a seed.
    /// </summary>
    /// <param name="model">The model whose parameters are set in place.</param>
    /// <param name="seed">The seed of the random initialisations.</param>
    public static void InitializeWeights(nn.Module model, long seed) => DiTInitializer.Initialize(model, seed);

    /// <summary>Creates a trainer.</summary>
    /// <param name="model">The model to train (initialise or load its weights first, e.g. <see cref="InitializeWeights"/>).</param>
    /// <param name="captions">Encodes captions (and "" for dropped ones).</param>
    /// <param name="options">Settings (null = upstream defaults).</param>
    /// <param name="lora">Adapters attached to <paramref name="model"/>: only they train, and checkpoints hold only them.</param>
    public FlowMatchingTrainer(IDiffusionTransformer model, ICaptionEncoder captions, FlowMatchingTrainerOptions? options = null, LoraNetwork? lora = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(captions);
        options ??= new FlowMatchingTrainerOptions();
        options.Validate();
        if (lora is not null && !ReferenceEquals(lora.Model, model.Module))
            throw new ArgumentException("The LoRA network is attached to a different model than the one being trained.", nameof(lora));
        _model = model;
        _captions = captions;
        _lora = lora;
        Options = options;
        _trained = lora is not null
            ? lora.NamedParameters().ToArray()
            : model.Module.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToArray();
        if (_trained.Length == 0) throw new ArgumentException("The model has no trainable parameters.", nameof(model));
        _optimizer = new AdamWOptimizer(_trained, options.LearningRate, options.WeightDecay, options.Beta1, options.Beta2, options.Eps);
        _ema = new ExponentialMovingAverage(_trained.Select(p => (p.Name, (Tensor)p.Param)));
    }

    /// <summary>The settings.</summary>
    public FlowMatchingTrainerOptions Options { get; }

    /// <summary>Steps completed (restored by <see cref="LoadCheckpoint"/>).</summary>
    public long Step { get; private set; }

    /// <summary>The EMA of the trained tensors by name (model parameters, or adapter tensors with LoRA).</summary>
    public IReadOnlyDictionary<string, Tensor> Ema => _ema.Shadow;

    /// <summary>Whether only LoRA adapters train.</summary>
    public bool IsLora => _lora is not null;

    /// <summary>Runs one optimisation step on <paramref name="batch"/> using the randomness of step <see cref="Step"/>.</summary>
    public TrainingStepResult TrainStep(TrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ValidateBatch(batch);
        _model.Module.train();
        _optimizer.ZeroGrad();
        double loss;
        _lora?.BeginTrainingStep();
        try
        {
            using var scope = NewDisposeScope();
            using var generator = StepGenerator(Options.Seed, Step);
            var lossTensor = ComputeLoss(batch, generator, Options.CaptionDropout);
            loss = lossTensor.item<float>();
            if (!double.IsFinite(loss))
                throw new InvalidOperationException($"The loss became {loss} at step {Step}; lower the learning rate or check the data.");
            lossTensor.backward();
        }
        finally
        {
            _lora?.EndTrainingStep();
        }
        var norm = Options.GradClip is double clip ? _optimizer.ClipGradNorm(clip) : _optimizer.ClipGradNorm(double.MaxValue);
        _optimizer.Step();
        _optimizer.ZeroGrad();
        _ema.Update(_trained.Select(p => (p.Name, (Tensor)p.Param)), Options.EmaDecay);
        Step++;
        return new TrainingStepResult(Step, loss, norm);
    }

    /// <summary>
    /// The loss on <paramref name="batch"/> with fixed randomness from <paramref name="seed"/> and no caption dropout,
    /// without changing anything (for monitoring: the same seed gives comparable numbers across steps).
    /// </summary>
    public double EvaluateLoss(TrainingBatch batch, long seed)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ValidateBatch(batch);
        _model.Module.eval();
        if (_lora is not null && _lora.IsMerged) throw new InvalidOperationException("Unmerge the LoRA updates first; EvaluateLoss applies them itself.");
        _lora?.Merge();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            using var generator = new Generator((ulong)seed);
            return ComputeLoss(batch, generator, captionDropout: 0).item<float>();
        }
        finally
        {
            _lora?.Unmerge();
        }
    }

    /// <summary>
    /// Trains until <see cref="Step"/> reaches <paramref name="targetStep"/>, reporting every step, writing checkpoints
    /// every <see cref="FlowMatchingTrainerOptions.CheckpointEvery"/> steps and at the end when
    /// <see cref="FlowMatchingTrainerOptions.OutputDirectory"/> is set. Cancellation stops between steps (after writing a
    /// checkpoint when an output folder is set) and then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <returns>The result of the last step, or null when no step ran.</returns>
    public TrainingStepResult? Train(ITrainingData data, long targetStep, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(targetStep);
        var clock = Stopwatch.StartNew();
        var startStep = Step;
        TrainingStepResult? last = null;
        while (Step < targetStep)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                if (Options.OutputDirectory is not null && Step > startStep) SaveCheckpoint(TrainingCheckpoint.FolderFor(Options.OutputDirectory, Step));
                cancellationToken.ThrowIfCancellationRequested();
            }
            using (var batch = data.GetBatch(Step, Options.BatchSize))
                last = TrainStep(batch);
            progress?.Report(new TrainingProgress(Step, targetStep, last.Loss, last.GradNorm, (Step - startStep) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            var due = Options.CheckpointEvery > 0 && Step % Options.CheckpointEvery == 0;
            if (Options.OutputDirectory is not null && (due || Step == targetStep))
                SaveCheckpoint(TrainingCheckpoint.FolderFor(Options.OutputDirectory, Step));
        }
        return last;
    }

    /// <summary>Writes a checkpoint folder (see <see cref="TrainingCheckpoint"/>) and returns its path.</summary>
    public string SaveCheckpoint(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["step"] = Step.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (_lora is not null)
        {
            _lora.Save(Path.Combine(folder, TrainingCheckpoint.LoraFile), meta);
            _lora.Save(Path.Combine(folder, TrainingCheckpoint.LoraEmaFile), _ema.Shadow.Select(kv => kv), meta);
        }
        else
        {
            var state = _model.Module.state_dict();
            SafetensorsWriter.Write(Path.Combine(folder, TrainingCheckpoint.ModelFile), state, meta);
            var emaState = state.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, _ema.Shadow.TryGetValue(kv.Key, out var e) ? e : kv.Value));
            SafetensorsWriter.Write(Path.Combine(folder, TrainingCheckpoint.EmaFile), emaState, meta);
        }
        SafetensorsWriter.Write(Path.Combine(folder, TrainingCheckpoint.OptimizerFile), _optimizer.StateTensors(), meta);
        TrainingCheckpoint.WriteState(folder, Step, _lora is not null, Options);
        return folder;
    }

    /// <summary>
    /// Restores weights (or adapters), EMA, optimizer moments and the step count from a folder written by
    /// <see cref="SaveCheckpoint"/>. Model weights load strictly.
    /// </summary>
    /// <exception cref="InvalidDataException">The folder was written for another mode or other parameters.</exception>
    public void LoadCheckpoint(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var (step, mode) = TrainingCheckpoint.ReadState(folder);
        var expectedMode = _lora is not null ? "lora" : "full";
        if (mode != expectedMode)
            throw new InvalidDataException($"'{folder}' is a {mode} checkpoint but this trainer trains {expectedMode}; attach (or drop) the LoRA network to match.");
        if (_lora is not null)
        {
            _lora.Load(Path.Combine(folder, TrainingCheckpoint.LoraFile));
            LoadInto(_ema.Load, Path.Combine(folder, TrainingCheckpoint.LoraEmaFile), LoraNetwork.FileKeys);
        }
        else
        {
            _model.Module.LoadSafetensors(Path.Combine(folder, TrainingCheckpoint.ModelFile));
            LoadInto(_ema.Load, Path.Combine(folder, TrainingCheckpoint.EmaFile));
        }
        LoadInto(read => _optimizer.LoadState(read, step), Path.Combine(folder, TrainingCheckpoint.OptimizerFile));
        Step = step;
    }

    /// <summary>Releases the optimizer state and the EMA.</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _ema.Dispose();
    }

    private static void LoadInto(Action<Func<string, Tensor?>> load, string path, Func<string, IEnumerable<string>>? fileKeys = null)
    {
        using var file = SafetensorsFile.Open(path);
        fileKeys ??= name => [name];
        load(name => fileKeys(name).FirstOrDefault(k => file.TryGetInfo(k, out _)) is { } key ? file.Read(key) : null);
    }

    private Tensor ComputeLoss(TrainingBatch batch, Generator generator, double captionDropout)
    {
        var x1 = batch.Data;
        var b = x1.shape[0];
        var drop = rand([b], ScalarType.Float64, generator: generator);
        var captions = new string[b];
        for (var i = 0; i < b; i++)
            captions[i] = drop[i].item<double>() < captionDropout ? "" : batch.Captions[i];
        var t = FlowMatching.SampleTimes(b, Options.TimestepSampling, generator).to(x1.device);
        var x0 = randn(x1.shape, ScalarType.Float32, generator: generator).to_type(x1.dtype).to(x1.device);
        var (xt, target) = FlowMatching.Interpolate(x0, x1, t);
        using var cap = EncodeCaptions(captions);
        if (cap.Mask.dim() != 2 || cap.Mask.shape[0] != b || cap.Features.shape[0] != b)
            throw new InvalidOperationException($"The caption encoder returned features [{string.Join(", ", cap.Features.shape)}] and mask [{string.Join(", ", cap.Mask.shape)}] for {b} captions.");
        if (cap.Mask.ne(0).sum([1]).min().item<long>() == 0)
            throw new InvalidOperationException("The caption encoder returned a caption without any token; the empty caption of caption dropout needs at least one (for example BOS).");
        var prediction = _model.Forward(new DiTInput(xt, t) { Captions = cap });
        return FlowMatching.Loss(prediction, target);
    }

    private CaptionEmbeddings EncodeCaptions(IReadOnlyList<string> captions)
    {
        // The text encoder is frozen: no graph through it.
        using var noGrad = no_grad();
        return _captions.Encode(captions);
    }

    private static void ValidateBatch(TrainingBatch batch)
    {
        if (batch.Data.dim() < 2)
            throw new ArgumentException($"Training data must be batched [B, …]; got [{string.Join(", ", batch.Data.shape)}].", nameof(batch));
        if (batch.Captions.Count != batch.Data.shape[0])
            throw new ArgumentException($"The batch has {batch.Data.shape[0]} samples but {batch.Captions.Count} captions.", nameof(batch));
    }

    private static Generator StepGenerator(long seed, long step)
    {
        // SplitMix64 of (seed, step): decorrelated streams per step, independent of how many steps ran in this process.
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return new Generator(z);
    }
}
