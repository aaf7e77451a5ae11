using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training.Tests;

public sealed class FlowMatchingTrainerTests
{
    private static readonly FlowMatchingTrainerOptions Fast = new()
    {
        LearningRate = 3e-3, BatchSize = 4, CaptionDropout = 0.25, EmaDecay = 0.9, Seed = 5,
    };

    [Fact]
    public void LossFallsWhenOverfittingAFixedBatch()
    {
        using var model = TinyModels.NextDiT(seed: 1);
        var encoder = TinyModels.CaptionEncoder();
        using var batch = TinyModels.FixedBatch();
        using var trainer = new FlowMatchingTrainer(model, encoder, Fast with { CaptionDropout = 0 });
        var before = trainer.EvaluateLoss(batch, seed: 123);
        var reports = new List<TrainingProgress>();
        trainer.Train(new FixedData(() => TinyModels.FixedBatch()), 120, new SyncProgress<TrainingProgress>(reports.Add));
        var after = trainer.EvaluateLoss(batch, seed: 123);

        Assert.Equal(120, trainer.Step);
        Assert.Equal(120, reports.Count);
        Assert.All(reports, r => Assert.True(r.StepsPerSecond > 0 && double.IsFinite(r.Loss)));
        Assert.True(after < 0.5 * before, $"The fixed-batch loss fell only from {before:F4} to {after:F4}.");
    }

    [Fact]
    public void AResumedRunContinuesExactlyLikeAnUninterruptedOne()
    {
        var data = new FixedData(() => TinyModels.FixedBatch());
        var encoder = TinyModels.CaptionEncoder();
        using var folder = new TempFolder();

        // Uninterrupted: 6 steps.
        using var modelA = TinyModels.NextDiT(seed: 1);
        using var trainerA = new FlowMatchingTrainer(modelA, encoder, Fast);
        var lossesA = new List<double>();
        trainerA.Train(data, 6, new SyncProgress<TrainingProgress>(p => lossesA.Add(p.Loss)));

        // Interrupted after 3 steps; a differently initialised model picks the run up from the checkpoint.
        var lossesB = new List<double>();
        using (var modelB = TinyModels.NextDiT(seed: 1))
        using (var trainerB = new FlowMatchingTrainer(modelB, encoder, Fast with { OutputDirectory = folder.Path }))
            trainerB.Train(data, 3, new SyncProgress<TrainingProgress>(p => lossesB.Add(p.Loss)));
        var checkpoint = TrainingCheckpoint.Latest(folder.Path);
        Assert.Equal(TrainingCheckpoint.FolderFor(folder.Path, 3), checkpoint);

        using var modelC = TinyModels.NextDiT(seed: 99);
        using var trainerC = new FlowMatchingTrainer(modelC, encoder, Fast);
        trainerC.LoadCheckpoint(checkpoint!);
        Assert.Equal(3, trainerC.Step);
        trainerC.Train(data, 6, new SyncProgress<TrainingProgress>(p => lossesB.Add(p.Loss)));

        Assert.Equal(6, lossesB.Count);
        for (var i = 0; i < 6; i++)
            Assert.True(Math.Abs(lossesA[i] - lossesB[i]) <= 1e-6, $"Step {i + 1}: uninterrupted loss {lossesA[i]:R}, resumed {lossesB[i]:R}.");
        var stateA = modelA.state_dict();
        foreach (var (name, value) in modelC.state_dict())
            TensorAssert.Close(stateA[name], value, atol: 1e-6, rtol: 0, what: name);
        foreach (var (name, ema) in trainerA.Ema)
            TensorAssert.Close(ema, trainerC.Ema[name], atol: 1e-6, rtol: 0, what: "ema " + name);
    }

    [Fact]
    public void CheckpointsUseUpstreamFileAndKeyNames()
    {
        using var folder = new TempFolder();
        using var model = TinyModels.NextDiT(seed: 2);
        using var trainer = new FlowMatchingTrainer(model, TinyModels.CaptionEncoder(), Fast with { EmaDecay = 0.5 });
        using (var batch = TinyModels.FixedBatch()) trainer.TrainStep(batch);
        var dir = trainer.SaveCheckpoint(folder.File("ckpt"));

        Assert.Equal("1", File.ReadAllText(Path.Combine(dir, TrainingCheckpoint.ResumeStepFile)).Trim());
        using var weights = SafetensorsFile.Open(Path.Combine(dir, TrainingCheckpoint.ModelFile));
        Assert.Contains(weights.Tensors, t => t.Name == "layers.0.attention.wq.weight");
        Assert.Contains(weights.Tensors, t => t.Name == "final_layer.adaLN_modulation.1.weight");

        // Both weight files load strictly into a fresh model; the EMA (decay 0.5 after one step) is the midpoint.
        using var fresh = new NextDiT(TinyModels.DiTConfig);
        fresh.LoadSafetensors(Path.Combine(dir, TrainingCheckpoint.ModelFile));
        using var emaModel = new NextDiT(TinyModels.DiTConfig);
        emaModel.LoadSafetensors(Path.Combine(dir, TrainingCheckpoint.EmaFile));
        using var initial = TinyModels.NextDiT(seed: 2);
        var now = fresh.state_dict();
        var start = initial.state_dict();
        foreach (var (name, ema) in emaModel.state_dict())
            TensorAssert.Close((start[name] + now[name]) / 2, ema, atol: 1e-6, rtol: 1e-6, what: name);
        Assert.True(now.Any(kv => !kv.Value.eq(start[kv.Key]).all().item<bool>()), "One step changed no weight.");
    }

    [Fact]
    public void CancellationStopsBetweenStepsAfterWritingACheckpoint()
    {
        using var folder = new TempFolder();
        using var model = TinyModels.NextDiT(seed: 1);
        using var trainer = new FlowMatchingTrainer(model, TinyModels.CaptionEncoder(), Fast with { OutputDirectory = folder.Path });
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress<TrainingProgress>(p => { if (p.Step == 2) cts.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => trainer.Train(new FixedData(() => TinyModels.FixedBatch()), 10, progress, cts.Token));
        Assert.Equal(2, trainer.Step);
        Assert.Equal(TrainingCheckpoint.FolderFor(folder.Path, 2), TrainingCheckpoint.Latest(folder.Path));
    }

    [Fact]
    public void LogitNormalTimesFollowTheSigmoidOfAStandardNormal()
    {
        using var g = new Generator(3);
        using var t = FlowMatching.SampleTimes(20000, TimestepSampling.LogitNormal, g);
        Assert.True(t.min().item<float>() > 0 && t.max().item<float>() < 1);
        Assert.InRange(t.mean().item<float>(), 0.49, 0.51);
        // P(t < sigmoid(-1)) = P(u < -1) ≈ 0.1587
        var below = t.lt(1 / (1 + Math.E)).to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(below, 0.15, 0.167);
        using var g2 = new Generator(3);
        using var u = FlowMatching.SampleTimes(20000, TimestepSampling.Uniform, g2);
        Assert.InRange(u.lt(0.1).to_type(ScalarType.Float32).mean().item<float>(), 0.09, 0.11);
    }

    [Fact]
    public void InterpolationAndTargetFollowTheLinearPath()
    {
        using var x0 = tensor(new float[] { 1, 2, 3, 4 }).view(2, 2);
        using var x1 = tensor(new float[] { 5, 6, 7, 8 }).view(2, 2);
        using var t = tensor(new float[] { 0.25f, 1f });
        var (xt, u) = FlowMatching.Interpolate(x0, x1, t);
        TensorAssert.Equal(tensor(new float[] { 2, 3, 7, 8 }).view(2, 2), xt);
        TensorAssert.Equal(tensor(new float[] { 4, 4, 4, 4 }).view(2, 2), u);
        Assert.Throws<ArgumentException>(() => FlowMatching.Interpolate(x0, x1, tensor(new float[] { 0.5f })));
    }

    [Fact]
    public void BadInputsAreRejectedWithAClearMessage()
    {
        using var model = TinyModels.NextDiT(seed: 1);
        var velocity = model;
        var encoder = TinyModels.CaptionEncoder();
        Assert.Throws<ArgumentException>(() => new FlowMatchingTrainer(velocity, encoder, new FlowMatchingTrainerOptions { LearningRate = 0 }));
        using var trainer = new FlowMatchingTrainer(velocity, encoder, Fast);
        using var batch = new TrainingBatch(zeros(2, 3, 8, 8), ["only one caption"]);
        var e = Assert.Throws<ArgumentException>(() => trainer.TrainStep(batch));
        Assert.Contains("captions", e.Message);
        using var folder = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => trainer.LoadCheckpoint(folder.Path));
    }
}

/// <summary>An IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
