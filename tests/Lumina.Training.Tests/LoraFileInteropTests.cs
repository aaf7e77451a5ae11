using Lumina.Adapters;
using Lumina.Tensors;
using Lumina.Testing;
using Lumina.Training.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training.Tests;

/// <summary>The trainer's adapter files are ComfyUI-form LoRA files that the inference loader applies.</summary>
public sealed class LoraFileInteropTests
{
    [Fact]
    public void ATrainedAdapterLoadsThroughTheCommunityLoaderToTheSameMergedWeights()
    {
        using var folder = new TempFolder();
        var options = new FlowMatchingTrainerOptions { LearningRate = 5e-2, BatchSize = 4, Seed = 4, CaptionDropout = 0, OutputDirectory = folder.Path };
        using var model = TinyModels.PretrainedLike(seed: 1);
        using var lora = LoraNetwork.Attach(model, new LoraOptions { Rank = 4, Alpha = 2 });
        using (var trainer = new FlowMatchingTrainer(new NextDiTVelocityModel(model), TinyModels.CaptionEncoder(), options, lora))
            trainer.Train(new FixedData(() => TinyModels.FixedBatch()), 3);
        var file = Path.Combine(TrainingCheckpoint.Latest(folder.Path)!, TrainingCheckpoint.LoraFile);

        using (var raw = SafetensorsFile.Open(file))
        {
            Assert.Contains(raw.Tensors, t => t.Name == "diffusion_model.layers.0.attention.wq.lora_A.weight");
            Assert.Contains(raw.Tensors, t => t.Name == "diffusion_model.layers.1.feed_forward.w2.alpha" && t.Shape.Count == 0);
        }
        using (var parsed = LoraFile.Load(file))
        {
            Assert.Equal(lora.Adapters.Count, parsed.Modules.Count);
            Assert.All(parsed.Modules, m => { Assert.Equal(LoraKeyForm.ComfyUI, m.Form); Assert.Equal(0.5, m.Scale); });
        }

        // The same base weights, adapted by the community loader …
        using var fresh = TinyModels.PretrainedLike(seed: 1);
        using (var stack = new LoraStack(fresh))
        {
            var handle = stack.Add(file, 1.0, LoraApplyMode.Merge);
            Assert.Equal(lora.Adapters.Count, handle.PatchedWeights.Count);
        }
        // … and by the trainer's own merge.
        lora.Merge();
        var trained = model.state_dict();
        using var basis = TinyModels.PretrainedLike(seed: 1);
        var untouched = basis.state_dict();
        var changed = 0;
        foreach (var (name, value) in fresh.state_dict())
        {
            Assert.Equal(trained[name].data<float>().ToArray(), value.data<float>().ToArray());
            changed += untouched[name].data<float>().ToArray().SequenceEqual(value.data<float>().ToArray()) ? 0 : 1;
        }
        Assert.Equal(lora.Adapters.Count, changed);
    }

    [Fact]
    public void FilesOfEarlierVersionsStillLoadBothWays()
    {
        using var folder = new TempFolder();
        var path = folder.File("old.safetensors");
        using var model = TinyModels.PretrainedLike(seed: 1);
        using var lora = LoraNetwork.Attach(model, new LoraOptions { Rank = 2, Alpha = 3, Targets = ["attention.wq"] });
        using (var g = new Generator(5))
        using (no_grad())
            foreach (var a in lora.Adapters) a.B.normal_(0, 0.1, g);
        // The bare-key layout with rank/alpha metadata that the trainer wrote before the ComfyUI form.
        SafetensorsWriter.Write(path, lora.NamedParameters().Select(p => new KeyValuePair<string, Tensor>(p.Name, p.Param)),
            new Dictionary<string, string> { ["format"] = "lumina-lora", ["lora_rank"] = "2", ["lora_alpha"] = "3" });

        using var again = LoraNetwork.Attach(TinyModels.PretrainedLike(seed: 1), new LoraOptions { Rank = 2, Alpha = 3, Targets = ["attention.wq"], Seed = 9 });
        again.Load(path);
        foreach (var ((name, p), (_, q)) in lora.NamedParameters().Zip(again.NamedParameters()))
            TensorAssert.Equal(p, q, name);

        using var parsed = LoraFile.Load(path);
        Assert.All(parsed.Modules, m => { Assert.Equal(LoraKeyForm.LuminaLegacy, m.Form); Assert.Equal(1.5, m.Scale); });
        using var fresh = TinyModels.PretrainedLike(seed: 1);
        using (var stack = new LoraStack(fresh))
            stack.Add(parsed, 1.0, LoraApplyMode.Merge);
        lora.Merge();
        foreach (var (name, value) in fresh.state_dict())
            Assert.Equal(model.state_dict()[name].data<float>().ToArray(), value.data<float>().ToArray());
    }
}
