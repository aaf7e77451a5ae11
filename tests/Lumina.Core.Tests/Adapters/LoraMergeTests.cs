using Lumina.Adapters;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Adapters;

/// <summary>Every community form of the golden adapter merges into lumina2's weights exactly as ComfyUI / diffusers did.</summary>
public sealed class LoraMergeTests
{
    public static TheoryData<string> Forms() => new(LoraGolden.LoraForms);

    [Theory]
    [MemberData(nameof(Forms))]
    public void EveryFormMergesBitwiseToTheReferenceMerge(string form)
    {
        var weights = LoraGolden.BaseWeights();
        var expected = LoraGolden.ReadAll(LoraGolden.File("lora.merged"));
        try
        {
            using var lora = LoraFile.Load(LoraGolden.File(form));
            var changed = LoraStack.MergeInto(weights, [(lora, 1.0)]);
            Assert.Equal(34, changed.Count);
            LoraGolden.AssertBitwise(expected, weights, form);
        }
        finally
        {
            LoraGolden.Dispose(weights);
            LoraGolden.Dispose(expected);
        }
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void EveryFormAgreesBitwiseAtHalfStrength(string form)
    {
        // merged_weight_agreement: every (file, reference) pair agrees at 0.5 too; kohya through ComfyUI is the anchor.
        var anchor = LoraGolden.BaseWeights();
        var weights = LoraGolden.BaseWeights();
        try
        {
            using (var kohya = LoraFile.Load(LoraGolden.File("lora_kohya")))
                LoraStack.MergeInto(anchor, [(kohya, 0.5)]);
            using var lora = LoraFile.Load(LoraGolden.File(form));
            LoraStack.MergeInto(weights, [(lora, 0.5)]);
            LoraGolden.AssertBitwise(anchor, weights, form);
        }
        finally
        {
            LoraGolden.Dispose(anchor);
            LoraGolden.Dispose(weights);
        }
    }

    [Fact]
    public void EachFormUsesItsReferencesScale()
    {
        using var kohya = LoraFile.Load(LoraGolden.File("lora_kohya"));
        Assert.All(kohya.Modules, m => { Assert.Equal(LoraKeyForm.Kohya, m.Form); Assert.Equal(0.5, m.Scale); Assert.Equal(2.0, m.Alpha); });
        Assert.Equal(34, kohya.Modules.Count);

        using var comfy = LoraFile.Load(LoraGolden.File("lora_comfy"));
        Assert.All(comfy.Modules, m => { Assert.Equal(LoraKeyForm.ComfyUI, m.Form); Assert.Equal(1.0, m.Scale); Assert.Null(m.Alpha); });

        using var comfyAlpha = LoraFile.Load(LoraGolden.File("lora_comfy_alpha"));
        Assert.All(comfyAlpha.Modules, m => Assert.Equal(0.5, m.Scale));

        // diffusers: no metadata → lora_alpha = r (scale 1); the fused qkv is three modules to_q/to_k/to_v → 46 modules.
        using var peft = LoraFile.Load(LoraGolden.File("lora_peft"));
        Assert.Equal(46, peft.Modules.Count);
        Assert.All(peft.Modules, m => { Assert.Equal(LoraKeyForm.Diffusers, m.Form); Assert.Equal(1.0, m.Scale); });

        // lora_adapter_metadata: lora_alpha 2, r 4 → 0.5.
        using var peftAlpha = LoraFile.Load(LoraGolden.File("lora_peft_alpha"));
        Assert.All(peftAlpha.Modules, m => { Assert.Equal(0.5, m.Scale); Assert.Equal(2.0, m.Alpha); });

        using var loha = LoraFile.Load(LoraGolden.File("lora_loha"));
        Assert.Equal(12, loha.Modules.Count);
        Assert.All(loha.Modules, m => { Assert.Equal(LoraAdapterKind.LoHa, m.Kind); Assert.Equal(0.5, m.Scale); });

        using var lokr = LoraFile.Load(LoraGolden.File("lora_lokr"));
        Assert.Equal(30, lokr.Modules.Count);
        Assert.All(lokr.Modules, m => { Assert.Equal(LoraAdapterKind.LoKr, m.Kind); Assert.Equal(0.5, m.Scale); Assert.Equal(2, m.Rank); });
    }

    [Fact]
    public void TheFusedQkvOfADiffusersFileLandsOnRowBlocksOfAttentionQkv()
    {
        var weights = LoraGolden.BaseWeights();
        try
        {
            var targets = new LoraTargets(weights);
            using var peft = LoraFile.Load(LoraGolden.File("lora_peft"));
            LoraTarget T(string name) => targets.Resolve(peft.Modules.Single(m => m.Target == name))!;
            // golden lumina2: dim 64, 4 heads / 2 KV heads of 16 → qkv [128, 64] = [q 64 | k 32 | v 32].
            Assert.Equal(new LoraTarget("layers.1.attention.qkv.weight", 0, 64), T("layers.1.attn.to_q"));
            Assert.Equal(new LoraTarget("layers.1.attention.qkv.weight", 64, 32), T("layers.1.attn.to_k"));
            Assert.Equal(new LoraTarget("layers.1.attention.qkv.weight", 96, 32), T("layers.1.attn.to_v"));
            Assert.Equal(new LoraTarget("noise_refiner.0.adaLN_modulation.1.weight", 0, 256), T("noise_refiner.0.norm1.linear"));
            Assert.Equal(new LoraTarget("context_refiner.1.feed_forward.w2.weight", 0, 64), T("context_refiner.1.feed_forward.linear_2"));
        }
        finally
        {
            LoraGolden.Dispose(weights);
        }
    }
}
