using Lumina.Checkpoints;
using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>Full-size presets built on the meta device (no memory): exact parameter counts of the released weights.</summary>
public sealed class DiTPresetTests
{
    private static readonly Device Meta = new("meta");

    private static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Fact]
    public void NextDiT2BGqaHasTheReleasedParameterCount()
    {
        using var model = new NextDiT(DiTPresets.NextDiT2BGqa, Meta);
        Assert.Equal(1_627_386_400L, Count(model));
        Assert.Equal(DeviceType.META, model.parameters().First().device_type);
        // The state dict names are those of consolidated*.safetensors.
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("layers.23.attention.wk_y.weight", keys);
        Assert.Contains("final_layer.adaLN_modulation.1.weight", keys);
        Assert.Equal([576L, 2304L], model.state_dict()["layers.0.attention.wk.weight"].shape);
    }

    [Fact]
    public void FlagDiT5BHasTheReleasedParameterCount()
    {
        using var model = new FlagDiT(DiTPresets.FlagDiT5B, Meta);
        Assert.Equal(5_046_643_744L, Count(model));
    }

    [Fact]
    public void OtherPresetsBuildOnMeta()
    {
        using var nonGqa = new NextDiT(DiTPresets.NextDiT2B, Meta);
        using var gqa = new NextDiT(DiTPresets.NextDiT2BGqa, Meta);
        // Without GQA each of the 24 layers has 4 full-width K/V projections (wk, wv from 2304, wk_y, wv_y from 2048)
        // and two full-width norms (k_norm, ky_norm) instead of a quarter of that.
        var kvDelta = 24L * (2 * 2304 * (2304 - 576) + 2 * 2048 * (2304 - 576) + 2 * 2 * (2304 - 576));
        Assert.Equal(Count(gqa) + kvDelta, Count(nonGqa));
        using var music = new MusicDiT(DiTPresets.LuminaT2Music, Meta);
        Assert.Equal(16, music.Config.Layers);
        Assert.Contains("blocks.15.attention.wk_y.weight", music.state_dict().Keys);
    }

    [Fact]
    public void InconsistentConfigsAreRejectedWithTheReason()
    {
        var ex = Assert.Throws<ArgumentException>(() => new NextDiT(DiTPresets.NextDiT2BGqa with { KvHeads = 5 }, Meta));
        Assert.Contains("KvHeads", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new NextDiT(DiTPresets.NextDiT2BGqa with { Heads = 7, KvHeads = 7 }, Meta));
        Assert.Contains("Dim", ex.Message);
    }
}
