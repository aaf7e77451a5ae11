using Lumina.Adapters;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Adapters;

/// <summary>Strict matching, stacking with per-adapter strengths, and removable adapters that restore the base bit for bit.</summary>
public sealed class LoraStackTests
{
    [Fact]
    public void KeysThatPatchNothingFailTheLoadByNameAndChangeNothing()
    {
        using var temp = new TempFolder();
        var path = WriteComfyWithExtras(temp.Path);
        var weights = LoraGolden.BaseWeights();
        var before = LoraGolden.ReadAll(Golden.WeightsPath("lumina2"));
        try
        {
            using var stack = new LoraStack(weights);
            var e = Assert.Throws<LoraMismatchException>(() => stack.Add(path));
            Assert.Contains("diffusion_model.layers.7.attention.qkv.lora_A.weight", e.UnmatchedKeys);
            Assert.Contains("diffusion_model.layers.7.attention.qkv.lora_B.weight", e.UnmatchedKeys);
            Assert.Contains("lycoris_layers_0_attention_out.lora_A.weight", e.UnmatchedKeys);
            Assert.Equal(3, e.UnmatchedKeys.Count);
            Assert.Contains("diffusion_model.layers.7.attention.qkv.lora_A.weight", e.Message);
            Assert.Contains("IgnoreUnmatchedKeys", e.Message);
            LoraGolden.AssertBitwise(before, weights, "after a refused load");
            Assert.Equal(0, stack.SavedWeightCount);
        }
        finally
        {
            LoraGolden.Dispose(weights);
            LoraGolden.Dispose(before);
        }
    }

    [Fact]
    public void IgnoringUnmatchedKeysAppliesTheRestAndListsThem()
    {
        using var temp = new TempFolder();
        var path = WriteComfyWithExtras(temp.Path);
        var weights = LoraGolden.BaseWeights();
        var expected = LoraGolden.ReadAll(LoraGolden.File("lora.merged"));
        try
        {
            using var stack = new LoraStack(weights);
            var handle = stack.Add(path, 1.0, LoraApplyMode.Removable, new LoraLoadOptions { IgnoreUnmatchedKeys = true });
            Assert.Equal(3, handle.UnmatchedKeys.Count);
            Assert.Equal(34, handle.PatchedWeights.Count);
            LoraGolden.AssertBitwise(expected, weights, "comfy with extra keys, ignored");
        }
        finally
        {
            LoraGolden.Dispose(weights);
            LoraGolden.Dispose(expected);
        }
    }

    [Fact]
    public void AnUpdateOfTheWrongShapeIsRefusedEvenWhenIgnoringUnmatchedKeys()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "wrong.safetensors");
        using (var a = randn(4, 65)) using (var b = randn(64, 4))
            SafetensorsWriter.Write(path, [new("diffusion_model.layers.0.attention.out.lora_A.weight", a), new("diffusion_model.layers.0.attention.out.lora_B.weight", b)]);
        var weights = LoraGolden.BaseWeights();
        try
        {
            using var stack = new LoraStack(weights);
            var e = Assert.Throws<LoraMismatchException>(() => stack.Add(path, 1, LoraApplyMode.Removable, new LoraLoadOptions { IgnoreUnmatchedKeys = true }));
            Assert.Single(e.ShapeMismatches);
            Assert.Contains("layers.0.attention.out.weight [64, 64]", e.ShapeMismatches[0]);
        }
        finally
        {
            LoraGolden.Dispose(weights);
        }
    }

    [Fact]
    public void AKohyaLumina2AdapterOnALuminaNextModelNamesEveryKey()
    {
        var weights = LoraGolden.ReadAll(Golden.WeightsPath("nextdit"));
        try
        {
            using var stack = new LoraStack(weights);
            var e = Assert.Throws<LoraMismatchException>(() => stack.Add(LoraGolden.File("lora_kohya")));
            // Lumina-Next has no fused qkv and no refiners: every such key is named; nothing was applied.
            foreach (var block in new[] { "noise_refiner_0", "context_refiner_1", "layers_0", "layers_1" })
            {
                Assert.Contains($"lora_unet_{block}_attention_qkv.lora_down.weight", e.UnmatchedKeys);
                Assert.Contains($"lora_unet_{block}_attention_qkv.alpha", e.UnmatchedKeys);
            }
            Assert.Contains("lora_unet_context_refiner_0_attention_qkv.lora_up.weight", e.Message);
            Assert.Equal(0, stack.SavedWeightCount);
        }
        finally
        {
            LoraGolden.Dispose(weights);
        }
    }

    [Fact]
    public void RemovableAdaptersRestoreTheBaseBitForBit()
    {
        var weights = LoraGolden.BaseWeights();
        var pristine = LoraGolden.BaseWeights();
        var expected = LoraGolden.ReadAll(LoraGolden.File("lora.merged"));
        try
        {
            using var stack = new LoraStack(weights);
            var lora = stack.Add(LoraGolden.File("lora_peft_bf16"));
            var loha = stack.Add(LoraGolden.File("lora_loha"), 0.7);
            var lokr = stack.Add(LoraGolden.File("lora_lokr"), -0.3);
            Assert.Equal(34, stack.SavedWeightCount);
            Assert.NotEqual(LoraGolden.Bytes(pristine["layers.0.attention.qkv.weight"]), LoraGolden.Bytes(weights["layers.0.attention.qkv.weight"]));

            stack.Remove(loha);
            stack.Remove(lokr);
            LoraGolden.AssertBitwise(expected, weights, "after removing the LoHa and LoKr");
            Assert.True(loha.IsRemoved);

            stack.Clear();
            LoraGolden.AssertBitwise(pristine, weights, "after Clear");
            Assert.Equal(0, stack.SavedWeightCount);
            Assert.True(lora.IsRemoved);
        }
        finally
        {
            LoraGolden.Dispose(weights);
            LoraGolden.Dispose(pristine);
            LoraGolden.Dispose(expected);
        }
    }

    [Fact]
    public void StackedAdaptersApplyInOrderWithTheirOwnStrengths()
    {
        var stacked = LoraGolden.BaseWeights();
        var sequential = LoraGolden.BaseWeights();
        var halves = LoraGolden.BaseWeights();
        var full = LoraGolden.ReadAll(LoraGolden.File("lora.merged"));
        try
        {
            using var stack = new LoraStack(stacked);
            var first = stack.Add(LoraGolden.File("lora_kohya"), 0.25);
            stack.Add(LoraGolden.File("lora_loha"), 0.5);
            stack.Add(LoraGolden.File("lora_lokr"), 2.0);
            using (var k = LoraFile.Load(LoraGolden.File("lora_kohya")))
            using (var h = LoraFile.Load(LoraGolden.File("lora_loha")))
            using (var r = LoraFile.Load(LoraGolden.File("lora_lokr")))
                LoraStack.MergeInto(sequential, [(k, 0.25), (h, 0.5), (r, 2.0)]);
            LoraGolden.AssertBitwise(sequential, stacked, "stack vs one merge of the same list");

            // Strengths are per adapter: the same adapter twice at 0.5 is the adapter at 1.0 (to float32 rounding).
            using (var a = LoraFile.Load(LoraGolden.File("lora_comfy_alpha")))
            using (var b = LoraFile.Load(LoraGolden.File("lora_peft")))
                LoraStack.MergeInto(halves, [(a, 0.5), (b, 0.5)]);
            foreach (var (key, value) in full)
                TensorAssert.Close(value, halves[key], atol: 1e-6, rtol: 1e-6, what: key);

            // Changing one strength recomputes from the originals: kohya at 1.0 on top of the others.
            stack.SetStrength(first, 1.0);
            Assert.Equal(1.0, first.Strength);
            var again = LoraGolden.BaseWeights();
            using (var k = LoraFile.Load(LoraGolden.File("lora_kohya")))
            using (var h = LoraFile.Load(LoraGolden.File("lora_loha")))
            using (var r = LoraFile.Load(LoraGolden.File("lora_lokr")))
                LoraStack.MergeInto(again, [(k, 1.0), (h, 0.5), (r, 2.0)]);
            LoraGolden.AssertBitwise(again, stacked, "after SetStrength");
            LoraGolden.Dispose(again);
        }
        finally
        {
            LoraGolden.Dispose(stacked);
            LoraGolden.Dispose(sequential);
            LoraGolden.Dispose(halves);
            LoraGolden.Dispose(full);
        }
    }

    [Fact]
    public void AMergedAdapterBecomesPartOfTheBase()
    {
        var weights = LoraGolden.BaseWeights();
        var expected = LoraGolden.ReadAll(LoraGolden.File("lora.merged"));
        try
        {
            using var stack = new LoraStack(weights);
            var loha = stack.Add(LoraGolden.File("lora_loha"));
            var merged = stack.Add(LoraGolden.File("lora_kohya"), 1.0, LoraApplyMode.Merge);
            Assert.True(merged.IsRemoved);
            Assert.Single(stack.Loaded);
            Assert.Throws<InvalidOperationException>(() => stack.Remove(merged));
            stack.Remove(loha);
            LoraGolden.AssertBitwise(expected, weights, "base + merged kohya after removing the LoHa");
            Assert.Equal(0, stack.SavedWeightCount);
        }
        finally
        {
            LoraGolden.Dispose(weights);
            LoraGolden.Dispose(expected);
        }
    }

    [Fact]
    public void BadInputIsRefusedAtTheBoundary()
    {
        var weights = LoraGolden.BaseWeights();
        try
        {
            using var stack = new LoraStack(weights);
            Assert.Throws<FileNotFoundException>(() => stack.Add("/no/such/lora.safetensors"));
            Assert.Throws<ArgumentOutOfRangeException>(() => stack.Add(LoraGolden.File("lora_kohya"), double.NaN));
            using var temp = new TempFolder();
            var half = Path.Combine(temp.Path, "half.safetensors");
            using (var a = randn(4, 64))
                SafetensorsWriter.Write(half, [new("lora_unet_layers_0_attention_out.lora_down.weight", a)]);
            var e = Assert.Throws<LoraFormatException>(() => stack.Add(half));
            Assert.Contains("lora_unet_layers_0_attention_out", e.Message);
            Assert.Contains("up", e.Message);
        }
        finally
        {
            LoraGolden.Dispose(weights);
        }
    }

    // lora_comfy plus a module for a block the model lacks and a prefix ComfyUI does not map (a DoRA scale is refused
    // outright: LoraUnsupportedContentTests).
    private static string WriteComfyWithExtras(string folder)
    {
        var tensors = LoraGolden.ReadAll(LoraGolden.File("lora_comfy"));
        tensors["diffusion_model.layers.7.attention.qkv.lora_A.weight"] = randn(4, 64);
        tensors["diffusion_model.layers.7.attention.qkv.lora_B.weight"] = randn(128, 4);
        tensors["lycoris_layers_0_attention_out.lora_A.weight"] = randn(4, 64);
        var path = Path.Combine(folder, "extras.safetensors");
        SafetensorsWriter.Write(path, tensors);
        LoraGolden.Dispose(tensors);
        return path;
    }
}
