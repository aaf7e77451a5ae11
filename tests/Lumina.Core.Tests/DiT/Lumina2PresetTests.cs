using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>The full-size Lumina-Image 2.0 transformer on the meta device: the released parameter and key counts.</summary>
public sealed class Lumina2PresetTests
{
    private static readonly Device Meta = new("meta");

    private static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Fact]
    public void UpstreamLayoutHasTheReleasedCounts()
    {
        using var model = new Lumina2Transformer(DiTPresets.Lumina2, Meta);
        var facts = Golden.Json("lumina2")["full_size"]!;
        Assert.Equal(2_609_771_456L, Count(model));
        Assert.Equal((long)facts["parameters"]!, Count(model));
        var state = model.state_dict();
        Assert.Equal(400, state.Count);
        Assert.Equal(2_609_769_152L, Count(model) - state["norm_final.weight"].numel());
        Assert.Equal([3840L, 2304L], state["layers.25.attention.qkv.weight"].shape);
        Assert.Equal([9216L, 2304L], state["layers.0.feed_forward.w1.weight"].shape);
        Assert.Equal([9216L, 1024L], state["noise_refiner.1.adaLN_modulation.1.weight"].shape);
        Assert.Equal([2304L, 1024L], state["final_layer.adaLN_modulation.1.weight"].shape);
        Assert.Equal([64L, 2304L], state["final_layer.linear.weight"].shape);
        Assert.Equal([2304L, 64L], state["x_embedder.weight"].shape);
        Assert.Equal([2304L, 2304L], state["cap_embedder.1.weight"].shape);
        Assert.DoesNotContain("context_refiner.0.adaLN_modulation.1.weight", state.Keys);
        Assert.Equal(DeviceType.META, model.parameters().First().device_type);
    }

    [Fact]
    public void DiffusersLayoutHasTheReleasedCounts()
    {
        using var model = new Lumina2Transformer(DiTPresets.Lumina2Diffusers, Meta);
        var facts = Golden.Json("lumina2_diffusers")["full_size"]!;
        Assert.Equal(2_609_769_152L, Count(model));
        Assert.Equal((long)facts["parameters"]!, Count(model));
        var diffusersKeys = model.state_dict().Keys.SelectMany(k => Lumina2KeyMap.ToDiffusers(k, model.Config)).Select(s => s.Key).ToList();
        Assert.Equal(459, diffusersKeys.Count);
        Assert.Equal(459, diffusersKeys.Distinct().Count());
        Assert.Equal((double)facts["q_norm_eps"]!, model.Config.QkNormEps);
        Assert.Equal((double)Golden.Json("lumina2")["full_size"]!["q_norm_eps"]!, DiTPresets.Lumina2.QkNormEps);
    }

    [Fact]
    public void InconsistentConfigsAreRejectedWithTheReason()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Lumina2Transformer(DiTPresets.Lumina2 with { AxesDims = [32, 32, 16] }, Meta));
        Assert.Contains("AxesDims", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new Lumina2Transformer(DiTPresets.Lumina2 with { KvHeads = 5 }, Meta));
        Assert.Contains("KvHeads", ex.Message);
    }
}

/// <summary>diffusers' transformer config.json for Lumina-Image 2.0.</summary>
public sealed class Lumina2ConfigJsonTests
{
    [Fact]
    public void GoldenDiffusersConfigsReadToModelsThatLoadTheirWeights()
    {
        using var temp = new TempFolder();
        var path = temp.File("config.json");
        var json = (System.Text.Json.Nodes.JsonObject)Golden.Json("lumina2_diffusers")["config"]!.DeepClone();
        json["_class_name"] = Lumina2Config.DiffusersClassName;
        File.WriteAllText(path, json.ToJsonString());
        var config = Lumina2Config.FromFile(path);
        Assert.Equal(1e-5, config.QkNormEps);
        Assert.False(config.NormFinal);
        Assert.Equal([4, 6, 6], config.AxesDims);
        using var model = new Lumina2Transformer(config);
        Assert.True(Lumina2Checkpoint.Load(model, Golden.WeightsPath("lumina2_diffusers")).Report.IsExactMatch);

        // The released config: the diffusers preset.
        File.WriteAllText(path, Golden.Json("lumina2_diffusers")["full_size"]!["config"]!.ToJsonString());
        var full = Lumina2Config.FromFile(path);
        Assert.Equal(DiTPresets.Lumina2Diffusers with { AxesDims = full.AxesDims, AxesLens = full.AxesLens }, full);
        Assert.Equal(DiTPresets.Lumina2Diffusers.AxesDims, full.AxesDims);

        File.WriteAllText(path, config.ToJson(12));
        var back = Lumina2Config.FromFile(path);
        Assert.Equal(config with { AxesDims = back.AxesDims, AxesLens = back.AxesLens }, back);
        Assert.Equal(config.AxesLens, back.AxesLens);
    }

    [Fact]
    public void OtherClassesAreRejected()
    {
        using var temp = new TempFolder();
        var path = temp.File("config.json");
        File.WriteAllText(path, """{"_class_name": "LuminaNextDiT2DModel"}""");
        var ex = Assert.Throws<LuminaException>(() => Lumina2Config.FromFile(path));
        Assert.Contains("Lumina2Transformer2DModel", ex.Message);
    }
}
