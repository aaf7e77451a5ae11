using System.Security.Cryptography;
using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>
/// Lumina-Image 2.0 from ComfyUI-GGUF files (golden part 'lumina2_gguf'): every golden file loads strictly through
/// <see cref="Lumina2Checkpoint"/>, dequantized at load or kept quantized and dequantized block by block, and its forward
/// matches upstream's NextDiT run on gguf-py's float32 dequantization (<c>out.forward.&lt;T&gt;</c>).
/// </summary>
public sealed class Lumina2GgufTests
{
    private static string GgufPath(string type) => Path.Combine(Golden.Directory, $"lumina2.{type}.gguf");

    public static TheoryData<string, QuantizedWeightsMode> Files()
    {
        var data = new TheoryData<string, QuantizedWeightsMode>();
        foreach (var type in new[] { "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1" })
            foreach (var mode in new[] { QuantizedWeightsMode.DequantizeAtLoad, QuantizedWeightsMode.KeepQuantized })
                data.Add(type, mode);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ForwardMatchesUpstreamOnTheDequantizedWeights(string type, QuantizedWeightsMode mode)
    {
        using var scope = NewDisposeScope();
        using var model = Lumina2Checkpoint.LoadModel(GgufPath(type), GoldenLumina2.UpstreamConfig(), mode: mode);
        using var file = GgufFile.Open(GgufPath(type));
        // Kept in their stored form: block types, and (under the float32 model) F16/BF16, inside the refiners and layers.
        var quantized = file.TensorInfos
            .Where(t => t.Type.IsQuantized() || t.Type is GgmlType.F16 or GgmlType.BF16)
            .Where(t => t.Name.StartsWith("layers.", StringComparison.Ordinal) || t.Name.Contains("_refiner.", StringComparison.Ordinal))
            .Select(t => t.Name).Order().ToList();
        if (mode == QuantizedWeightsMode.KeepQuantized && quantized.Count > 0)
        {
            var weights = Assert.IsType<QuantizedWeights>(model.BlockWeights);
            Assert.Equal(quantized, weights.QuantizedKeys.Order());
            Assert.True(model.state_dict()["layers.0.attention.qkv.weight"].isnan().all().item<bool>(), "kept weights are placeholders outside the forward");
            Assert.Equal(file.TensorInfos.Where(t => quantized.Contains(t.Name)).Sum(t => t.ByteLength), weights.QuantizedBytes);
        }
        else
            Assert.Null(model.BlockWeights);

        using var cases = Golden.OpenCases("lumina2_gguf");
        Tensor output;
        using (no_grad()) output = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask"));
        // The F32 file holds the original weights, whose forward is lumina2's out.forward.
        using var reference = type == "F32" ? Golden.OpenCases("lumina2") : null;
        var expected = reference?.Read("out.forward") ?? cases.Read($"out.forward.{type}");
        TensorAssert.Close(expected, output, what: $"out.forward.{type} ({mode})");
        if (model.BlockWeights is not null)
            Assert.True(model.state_dict()["layers.1.feed_forward.w2.weight"].isnan().all().item<bool>(), "the forward puts the placeholders back");
    }

    [Fact]
    public void LoadIntoAnExistingModelDequantizesInTheModelsDtype()
    {
        using var scope = NewDisposeScope();
        using var model = new Lumina2Transformer(GoldenLumina2.UpstreamConfig());
        var result = Lumina2Checkpoint.Load(model, GgufPath("Q8_0"));
        Assert.Equal(Lumina2CheckpointLayout.Upstream, result.Layout);
        Assert.True(result.Report.IsExactMatch);
        Assert.Equal(Lumina2CheckpointLayout.Upstream, Lumina2Checkpoint.DetectLayout(GgufPath("Q8_0")));
        using var dequant = SafetensorsFile.Open(Path.Combine(Golden.Directory, "lumina2.Q8_0.dequant.safetensors"));
        Tensors.GgufFileTests.AssertBitwise(dequant.Read("layers.0.attention.qkv.weight"), model.state_dict()["layers.0.attention.qkv.weight"], "qkv");

        using var cases = Golden.OpenCases("lumina2_gguf");
        using (no_grad())
            TensorAssert.Close(cases.Read("out.forward.Q8_0"), model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask")));
    }

    [Fact]
    public void ComfyPrefixedFileLoadsKeptQuantizedAndSkipsOtherComponents()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempFolder();
        var path = temp.File("all-in-one.gguf");
        using (var source = GgufFile.Open(GgufPath("Q4_0")))
        {
            var tensors = source.TensorInfos.Select(t => new GgufWriterTensor(Lumina2KeyMap.ComfyPrefix + t.Name, t.Type, t.Shape,
                () => t.Type.IsQuantized() ? source.ReadRaw(t.Name) : source.Read(t.Name))).ToList();
            tensors.Add(new GgufWriterTensor("text_encoders.gemma.embed.weight", GgmlType.F32, [4, 8], () => torch.ones(4, 8)));
            GgufWriter.Write(path, [new(GgufHeader.ArchitectureKey, GgufValue.String("lumina2"))], tensors);
        }
        Assert.Equal(Lumina2CheckpointLayout.ComfyUI, Lumina2Checkpoint.DetectLayout(path));
        using var model = new Lumina2Transformer(GoldenLumina2.UpstreamConfig());
        var result = Lumina2Checkpoint.Load(model, path, QuantizedWeightsMode.KeepQuantized);
        Assert.Equal(Lumina2CheckpointLayout.ComfyUI, result.Layout);
        Assert.Equal(["text_encoders.gemma.embed.weight"], result.Report.Skipped);
        Assert.NotNull(model.BlockWeights);

        using var cases = Golden.OpenCases("lumina2_gguf");
        using (no_grad())
            TensorAssert.Close(cases.Read("out.forward.Q4_0"), model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("cap_feats"), cases.Read("cap_mask")));
    }

    [Fact]
    public void AnotherArchitectureIsRefusedByName()
    {
        using var temp = new TempFolder();
        var path = temp.File("flux.gguf");
        GgufWriter.Write(path, [new(GgufHeader.ArchitectureKey, GgufValue.String("flux"))],
            [new GgufWriterTensor("img_in.weight", GgmlType.F32, [2, 2], () => torch.zeros(2, 2))]);
        var error = Assert.Throws<GgufException>(() => Lumina2Checkpoint.LoadModel(path, GoldenLumina2.UpstreamConfig()));
        Assert.Contains("'flux'", error.Message);
        Assert.Contains("lumina2", error.Message);
    }

    [Fact]
    public void AConfigThatDoesNotFitTheHeaderFailsBeforeLoadingNamingTheKeys()
    {
        var config = GoldenLumina2.UpstreamConfig() with { Layers = 3 };
        var error = Assert.Throws<CheckpointMismatchException>(() => Lumina2Checkpoint.LoadModel(GgufPath("Q8_0"), config, mode: QuantizedWeightsMode.KeepQuantized));
        Assert.Contains("layers.2.attention.qkv.weight", error.Message);
        var wide = GoldenLumina2.UpstreamConfig() with { CaptionDim = 48 };
        error = Assert.Throws<CheckpointMismatchException>(() => Lumina2Checkpoint.LoadModel(GgufPath("F16"), wide));
        Assert.Contains("cap_embedder.1.weight", error.Message);
    }

    [Theory]
    [InlineData("F32", "F32")]
    [InlineData("F16", "F16")]
    [InlineData("BF16", "BF16")]
    [InlineData("F16", "Q8_0")]
    [InlineData("F16", "Q4_0")]
    [InlineData("F16", "Q4_1")]
    public void SavedFilesAreByteIdenticalToComfyUIGgufs(string sourceType, string fileType)
    {
        using var scope = NewDisposeScope();
        using var model = Lumina2Checkpoint.LoadModel(GgufPath(sourceType), GoldenLumina2.UpstreamConfig());
        using var temp = new TempFolder();
        var path = temp.File("saved.gguf");
        Lumina2Checkpoint.SaveGguf(model, path, Enum.Parse<GgmlType>(fileType));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(GgufPath(fileType))), SHA256.HashData(File.ReadAllBytes(path)));
    }

    [Fact]
    public void AKeptQuantizedModelSavesItsDequantizedWeights()
    {
        using var scope = NewDisposeScope();
        using var model = Lumina2Checkpoint.LoadModel(GgufPath("Q8_0"), GoldenLumina2.UpstreamConfig(), mode: QuantizedWeightsMode.KeepQuantized);
        using var temp = new TempFolder();
        var path = temp.File("again.gguf");
        Lumina2Checkpoint.SaveGguf(model, path, GgmlType.Q8_0);
        // Q8_0 of Q8_0-dequantized values re-encodes to the same blocks.
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(GgufPath("Q8_0"))), SHA256.HashData(File.ReadAllBytes(path)));
        Assert.True(model.state_dict()["layers.0.attention.qkv.weight"].isnan().all().item<bool>());
    }
}
