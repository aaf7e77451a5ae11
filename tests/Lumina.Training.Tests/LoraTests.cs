using Lumina.Testing;
using Lumina.Training.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Training.Tests;

public sealed class LoraTests
{
    private static Dictionary<string, Tensor> Snapshot(nn.Module model)
        => model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    private static void RandomizeB(LoraNetwork lora, long seed)
    {
        using var g = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var a in lora.Adapters) a.B.normal_(0, 0.1, g);
    }

    [Fact]
    public void AttachesToEveryAttentionAndFeedForwardLinear()
    {
        using var model = TinyModels.PretrainedLike(seed: 1);
        using var lora = LoraNetwork.Attach(model, new LoraOptions { Rank = 4, Alpha = 8 });
        // 2 layers × (wq, wk, wv, wk_y, wv_y, wo, w1, w2, w3)
        Assert.Equal(18, lora.Adapters.Count);
        Assert.Contains(lora.Adapters, a => a.Name == "layers.1.attention.wk_y");
        Assert.Contains(lora.Adapters, a => a.Name == "layers.0.feed_forward.w2");
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
        Assert.Throws<ArgumentException>(() => LoraNetwork.Attach(model, new LoraOptions { Targets = ["no_such_linear"] }));
        Assert.Throws<ArgumentException>(() => LoraNetwork.Attach(model, new LoraOptions { Rank = 0 }));
    }

    [Fact]
    public void TrainingChangesOnlyTheAdaptersAndTheBaseWeightsStayBitIdentical()
    {
        using var model = TinyModels.PretrainedLike(seed: 1);
        var before = Snapshot(model);
        using var lora = LoraNetwork.Attach(model, new LoraOptions { Rank = 4, Alpha = 4, Seed = 3 });
        var adaptersBefore = lora.NamedParameters().ToDictionary(p => p.Name, p => p.Param.detach().clone());
        using var trainer = new FlowMatchingTrainer(model, TinyModels.CaptionEncoder(),
            new FlowMatchingTrainerOptions { LearningRate = 1e-2, BatchSize = 4, CaptionDropout = 0 }, lora);
        using (var batch = TinyModels.FixedBatch())
        {
            trainer.TrainStep(batch);
            trainer.TrainStep(batch);
        }

        foreach (var (name, value) in model.state_dict())
            TensorAssert.Equal(before[name], value, name);
        var changed = lora.NamedParameters().Count(p => !p.Param.eq(adaptersBefore[p.Name]).all().item<bool>());
        Assert.True(changed >= lora.Adapters.Count, $"Only {changed} adapter tensors changed.");
        Assert.Equal(2 * lora.Adapters.Count, trainer.Ema.Count);
    }

    [Fact]
    public void AdapterGradientsEqualDirectAutogradThroughTheLowRankProduct()
    {
        using var probe = new Probe();
        using var lora = LoraNetwork.Attach(probe, new LoraOptions { Rank = 2, Alpha = 3, Targets = ["wq"] });
        RandomizeB(lora, 5);
        var adapter = lora.Adapters.Single();
        using var x = randn(5, 6, generator: new Generator(9));

        lora.BeginTrainingStep();
        probe.wq.forward(x).square().sum().backward();
        lora.EndTrainingStep();
        var gradA = adapter.A.grad!.clone();
        var gradB = adapter.B.grad!.clone();

        // Direct: y = x·(W + (α/r)·B·A)ᵀ with autograd through A and B.
        var a = adapter.A.detach().clone().requires_grad_(true);
        var b = adapter.B.detach().clone().requires_grad_(true);
        var w = probe.wq.weight!.detach() + b.mm(a) * (3.0 / 2);
        nn.functional.linear(x, w).square().sum().backward();
        TensorAssert.Close(a.grad!, gradA, atol: 1e-5, rtol: 1e-5, what: "dL/dA");
        TensorAssert.Close(b.grad!, gradB, atol: 1e-5, rtol: 1e-5, what: "dL/dB");
        Assert.True(gradA.abs().max().item<float>() > 0);
    }

    [Fact]
    public void MergeThenUnmergeRestoresTheBaseWeights()
    {
        using var model = TinyModels.PretrainedLike(seed: 1);
        var before = Snapshot(model);
        using var lora = LoraNetwork.Attach(model, new LoraOptions { Rank = 4, Alpha = 16 });
        RandomizeB(lora, 1);

        lora.Merge();
        Assert.True(lora.IsMerged);
        var wq = model.state_dict()["layers.0.attention.wq.weight"];
        var expected = before["layers.0.attention.wq.weight"] + lora.Adapters.Single(a => a.Name == "layers.0.attention.wq").Delta().detach();
        TensorAssert.Close(expected, wq, atol: 1e-6, rtol: 0, what: "merged wq");
        Assert.Throws<InvalidOperationException>(() => lora.Merge());

        lora.Unmerge();
        foreach (var (name, value) in model.state_dict())
            TensorAssert.Close(before[name], value, atol: 1e-6, rtol: 0, what: name);
    }

    [Fact]
    public void AdaptersRoundTripThroughTheirOwnSafetensorsFile()
    {
        using var folder = new TempFolder();
        var path = folder.File("adapter.safetensors");
        using (var model = TinyModels.PretrainedLike(seed: 1))
        using (var lora = LoraNetwork.Attach(model, new LoraOptions { Rank = 4, Alpha = 8, Seed = 1 }))
        {
            RandomizeB(lora, 2);
            lora.Save(path);
        }

        using var other = TinyModels.PretrainedLike(seed: 1);
        using var loaded = LoraNetwork.Attach(other, new LoraOptions { Rank = 4, Alpha = 8, Seed = 77 });
        loaded.Load(path);
        using var again = TinyModels.PretrainedLike(seed: 1);
        using var reference = LoraNetwork.Attach(again, new LoraOptions { Rank = 4, Alpha = 8, Seed = 1 });
        RandomizeB(reference, 2);
        foreach (var ((name, p), (_, q)) in reference.NamedParameters().Zip(loaded.NamedParameters()))
            TensorAssert.Equal(p, q, name);

        using var wrongRank = LoraNetwork.Attach(TinyModels.PretrainedLike(seed: 1), new LoraOptions { Rank = 2, Alpha = 8 });
        Assert.Throws<InvalidDataException>(() => wrongRank.Load(path));
        using var fewerTargets = LoraNetwork.Attach(TinyModels.PretrainedLike(seed: 1), new LoraOptions { Rank = 4, Alpha = 8, Targets = ["attention.wq"] });
        var e = Assert.Throws<InvalidDataException>(() => fewerTargets.Load(path));
        Assert.Contains("unexpected", e.Message);
    }

    [Fact]
    public void ALoraCheckpointResumesTheAdapters()
    {
        using var folder = new TempFolder();
        var options = new FlowMatchingTrainerOptions { LearningRate = 1e-2, BatchSize = 4, Seed = 4, OutputDirectory = folder.Path };
        var data = new FixedData(() => TinyModels.FixedBatch());
        var encoder = TinyModels.CaptionEncoder();
        using var model = TinyModels.PretrainedLike(seed: 1);
        using var lora = LoraNetwork.Attach(model, new LoraOptions { Rank = 2 });
        using (var trainer = new FlowMatchingTrainer(model, encoder, options, lora))
            trainer.Train(data, 2);
        var dir = TrainingCheckpoint.Latest(folder.Path)!;
        Assert.True(File.Exists(Path.Combine(dir, TrainingCheckpoint.LoraFile)));
        Assert.False(File.Exists(Path.Combine(dir, TrainingCheckpoint.ModelFile)));

        using var model2 = TinyModels.PretrainedLike(seed: 1);
        using var lora2 = LoraNetwork.Attach(model2, new LoraOptions { Rank = 2, Seed = 50 });
        using var trainer2 = new FlowMatchingTrainer(model2, encoder, options, lora2);
        trainer2.LoadCheckpoint(dir);
        Assert.Equal(2, trainer2.Step);
        foreach (var ((name, p), (_, q)) in lora.NamedParameters().Zip(lora2.NamedParameters()))
            TensorAssert.Equal(p, q, name);
        using var full = new FlowMatchingTrainer(TinyModels.PretrainedLike(seed: 1), encoder, options);
        Assert.Throws<InvalidDataException>(() => full.LoadCheckpoint(dir));
    }

    private sealed class Probe : nn.Module
    {
#pragma warning disable IDE1006
        public readonly Linear wq;
#pragma warning restore IDE1006

        public Probe() : base(nameof(Probe))
        {
            wq = nn.Linear(6, 4, hasBias: false);
            RegisterComponents();
        }
    }
}
