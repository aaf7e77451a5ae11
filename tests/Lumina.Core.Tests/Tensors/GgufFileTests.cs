using System.Text.Json.Nodes;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;

namespace Lumina.Core.Tests.Tensors;

/// <summary>
/// The GGUF reader and dequantizers against the golden files written by ComfyUI-GGUF's convert.py, llama-quantize's
/// rules through gguf-py, and gguf-py's own dequantizer (<c>lumina2_gguf.json</c>).
/// </summary>
public sealed class GgufFileTests
{
    public static readonly TheoryData<string> AllTypes = new() { "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1" };
    public static readonly TheoryData<string> QuantizedTypes = new() { "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1" };

    private static JsonNode Json => Golden.Json("lumina2_gguf");

    private static string GgufPath(string type) => Path.Combine(Golden.Directory, $"lumina2.{type}.gguf");

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void HeaderMatchesTheReference(string type)
    {
        var expected = Json["files"]![type]!;
        using var file = GgufFile.Open(GgufPath(type));
        Assert.Equal((long)expected["bytes"]!, file.FileLength);
        Assert.Equal((uint)expected["gguf_version"]!, file.Header.Version);
        Assert.Equal((int)expected["alignment"]!, file.Header.Alignment);
        Assert.Equal((long)expected["data_offset"]!, file.Header.DataOffset);
        Assert.Equal("lumina2", file.Architecture);

        var metadata = expected["metadata"]!.AsArray();
        Assert.Equal(metadata.Count, file.Header.MetadataEntries.Count);
        for (var i = 0; i < metadata.Count; i++)
        {
            var (key, value) = file.Header.MetadataEntries[i];
            Assert.Equal((string)metadata[i]!["key"]!, key);
            Assert.Equal(((string)metadata[i]!["type"]!).Replace("UINT", "UInt").Replace("STRING", "String"), value.Type.ToString());
            Assert.Equal(metadata[i]!["value"]!.ToString(), value.ToString());
        }

        var counts = file.TensorInfos.GroupBy(t => t.Type.ToString()).ToDictionary(g => g.Key, g => g.Count());
        var expectedCounts = expected["type_counts"]!.AsObject().ToDictionary(kv => kv.Key, kv => (int)kv.Value!);
        Assert.Equal(expectedCounts.OrderBy(kv => kv.Key), counts.OrderBy(kv => kv.Key));

        var tensors = Json["tensors"]!.AsObject();
        Assert.Equal(tensors.Select(kv => kv.Key), file.TensorInfos.Select(t => t.Name));
        foreach (var info in file.TensorInfos)
        {
            var entry = tensors[info.Name]!;
            Assert.Equal(entry["torch_shape"]!.AsArray().Select(d => (long)d!), info.Shape);
            Assert.Equal(entry["ne"]!.AsArray().Select(d => (long)d!), info.Dimensions);
            Assert.Equal((string)entry["type"]![type]!, info.Type.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void NamesAndShapesAreTheUpstreamCheckpointsKeys(string type)
    {
        using var weights = SafetensorsFile.Open(Golden.WeightsPath("lumina2"));
        using var file = GgufFile.Open(GgufPath(type));
        Assert.Equal(weights.Tensors.Select(t => (t.Name, string.Join(",", t.Shape))).Order(),
            file.Tensors.Select(t => (t.Name, string.Join(",", t.Shape))).Order());
    }

    [Theory]
    [MemberData(nameof(QuantizedTypes))]
    public void BlockTypesDequantizeBitwiseAsGgufPy(string type)
    {
        using var expected = SafetensorsFile.Open(Path.Combine(Golden.Directory, $"lumina2.{type}.dequant.safetensors"));
        using var file = GgufFile.Open(GgufPath(type));
        var quantized = file.TensorInfos.Where(t => t.Type.IsQuantized()).Select(t => t.Name).Order().ToList();
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(), quantized);
        foreach (var name in quantized)
        {
            using var want = expected.Read(name);
            using var got = file.Read(name);
            AssertBitwise(want, got, name);
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void PlainTensorsAreCastsOfTheOriginalWeights(string type)
    {
        using var weights = SafetensorsFile.Open(Golden.WeightsPath("lumina2"));
        using var file = GgufFile.Open(GgufPath(type));
        foreach (var info in file.TensorInfos.Where(t => !t.Type.IsQuantized()))
        {
            using var got = file.Read(info.Name);
            Assert.Equal(info.Type.ReadType().ToScalarType(), got.dtype);
            // The BF16 file was converted from a bf16 copy of the weights (like the released checkpoint), so even its F32
            // tensors went through bf16.
            using var original = type == "BF16" ? weights.Read(info.Name, torch.ScalarType.BFloat16) : weights.Read(info.Name);
            using var want = original.to(got.dtype);
            AssertBitwise(want, got, info.Name);
        }
    }

    [Fact]
    public void EveryDequantizerIsBitwiseEqualToGgufPyOnRandomBlocks()
    {
        var reference = Json["kquants"]!["tensors"]!.AsObject();
        using var expected = SafetensorsFile.Open(Path.Combine(Golden.Directory, "kquants.dequant.safetensors"));
        using var file = GgufFile.Open(Path.Combine(Golden.Directory, "kquants.gguf"));
        Assert.Equal("random_blocks", file.Architecture);
        Assert.Equal(reference.Select(kv => kv.Key), file.TensorInfos.Select(t => t.Name));
        var covered = new HashSet<GgmlType>();
        foreach (var info in file.TensorInfos)
        {
            var entry = reference[info.Name]!;
            Assert.Equal((string)entry["type"]!, info.Type.ToString());
            Assert.Equal(entry["torch_shape"]!.AsArray().Select(d => (long)d!), info.Shape);
            Assert.Equal((long)entry["offset"]!, info.Offset);
            Assert.Equal((long)entry["n_bytes"]!, info.ByteLength);
            using var want = expected.Read(info.Name);
            using var got = file.Read(info.Name, torch.ScalarType.Float32);
            AssertBitwise(want, got, info.Name);

            // The raw-blocks path (for weights kept quantized) decodes to the same bits.
            using var raw = file.ReadRaw(info.Name);
            using var again = GgmlDequantizer.Dequantize(info.Type, raw, info.ShapeArray());
            AssertBitwise(want, again, info.Name + " (raw)");
            covered.Add(info.Type);
        }
        // F32 is covered by lumina2.F32.gguf (PlainTensorsAreCastsOfTheOriginalWeights).
        Assert.Equal(GgmlDequantizer.Supported.Where(t => t != GgmlType.F32).Order(), covered.Order());
    }

    [Fact]
    public void StrictLoadFillsAModuleWithTheDequantizedWeights()
    {
        using var file = GgufFile.Open(GgufPath("Q4_0"));
        using var module = new Holder(file);
        var report = module.LoadTensors(file);
        Assert.True(report.IsExactMatch);
        using var expected = SafetensorsFile.Open(Path.Combine(Golden.Directory, "lumina2.Q4_0.dequant.safetensors"));
        using var want = expected.Read("layers.0.feed_forward.w2.weight");
        AssertBitwise(want, module.Parameter("layers.0.feed_forward.w2.weight"), "w2 (Q4_1 upgrade)");
        Assert.Equal(GgmlType.Q4_1, file.GetTensorInfo("layers.0.feed_forward.w2.weight").Type);
    }

    [Fact]
    public void WriterRoundTripsMetadataOriginalShapesAndEveryType()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "written.gguf");
        using var source = GgufFile.Open(Path.Combine(Golden.Directory, "kquants.gguf"));
        var tensors = source.TensorInfos.Select(t => new GgufWriterTensor(t.Name, t.Type, t.Shape,
            () => t.Type.IsQuantized() ? source.ReadRaw(t.Name) : source.Read(t.Name))).ToList();
        GgufWriter.Write(path,
        [
            new("general.architecture", GgufValue.String("test")),
            new("nested", GgufValue.ArrayOfArrays(GgufValue.Int32Array(1, 2), GgufValue.Int32Array())),
            new("words", GgufValue.StringArray("a", "é", "")),
            new(GgufHeader.OriginalShapePrefix + "rand.Q8_0", GgufValue.Int32Array(4, 16, 32)),
        ], tensors, alignment: 64);

        using var written = GgufFile.Open(path);
        Assert.Equal(64, written.Header.Alignment);
        Assert.Equal(0, written.Header.DataOffset % 64);
        Assert.Equal(new long[] { 4, 16, 32 }, written.GetTensorInfo("rand.Q8_0").Shape);
        Assert.Equal(new[] { "a", "é", "" }, (string[])written.Metadata["words"].Value);
        Assert.Equal(2, written.Metadata["nested"].Items[0].Count);
        foreach (var info in source.TensorInfos)
        {
            using var want = source.Read(info.Name);
            using var got = written.Read(info.Name);
            AssertBitwise(want.reshape(got.shape), got, info.Name);
        }
    }

    [Fact]
    public void UnsupportedTypesOpenButRaiseTheDocumentedExceptionWhenRead()
    {
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "iq2.gguf");
        GgufWriter.Write(path, [new("general.architecture", GgufValue.String("test"))],
            [new GgufWriterTensor("w", GgmlType.IQ2_XXS, [2, 256], () => torch.zeros(2 * 66, torch.ScalarType.Byte))]);
        using var file = GgufFile.Open(path);
        Assert.False(GgufFile.CanRead(GgmlType.IQ2_XXS));
        var error = Assert.Throws<GgufException>(() => file.Read("w"));
        Assert.Contains("IQ2_XXS", error.Message);
        using var raw = file.ReadRaw("w");
        Assert.Equal(132, raw.numel());
        Assert.Throws<NotSupportedException>(() => GgmlDequantizer.Dequantize(GgmlType.IQ2_XXS, new byte[66], new float[256]));
        Assert.Throws<ArgumentException>(() => GgmlDequantizer.Dequantize(GgmlType.Q8_0, new byte[33], new float[32]));
        Assert.Throws<ArgumentException>(() => GgmlDequantizer.Dequantize(GgmlType.Q8_0, new byte[34], new float[31]));
    }

    [Fact]
    public void LargeTensorsDecodeInParallelToTheSameBits()
    {
        // Big enough for the multi-threaded path: every block decodes to what the single-block span API gives.
        var random = new Random(5);
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K })
        {
            var blocks = 3001;
            var raw = new byte[blocks * type.TypeSize()];
            random.NextBytes(raw);
            for (var b = 0; b < blocks; b++) // keep the fp16 scales finite
                for (var at = b * type.TypeSize() + (type == GgmlType.Q6_K ? 208 : 0); at < b * type.TypeSize() + (type == GgmlType.Q6_K ? 210 : type == GgmlType.Q4_K ? 4 : 2); at += 2)
                    raw[at + 1] &= 0x3B;
            using var tensor = torch.tensor(raw);
            using var parallel = GgmlDequantizer.Dequantize(type, tensor, [blocks, type.BlockSize()]);
            var serial = new float[type.BlockSize()];
            var all = parallel.data<float>().ToArray();
            for (var b = 0; b < blocks; b++)
            {
                GgmlDequantizer.Dequantize(type, raw.AsSpan(b * type.TypeSize(), type.TypeSize()), serial);
                Assert.True(serial.AsSpan().SequenceEqual(all.AsSpan(b * type.BlockSize(), type.BlockSize())), $"{type} block {b}");
            }
        }
    }

    internal static void AssertBitwise(torch.Tensor expected, torch.Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        using var e = expected.contiguous();
        using var a = actual.contiguous();
        Assert.True(e.bytes.SequenceEqual(a.bytes), $"{what}: not bitwise equal (max abs diff {(e.to(torch.float64) - a.to(torch.float64)).abs().max().item<double>()}).");
    }

    /// <summary>A module whose state dict has exactly the file's names and shapes, in float32.</summary>
    private sealed class Holder : torch.nn.Module
    {
        public Holder(GgufFile file) : base("holder")
        {
            foreach (var t in file.Tensors)
                register_parameter(t.Name.Replace('.', '_'), new TorchSharp.Modules.Parameter(torch.zeros(t.ShapeArray())));
        }

        public torch.Tensor Parameter(string name) => state_dict()[name.Replace('.', '_')];

        public CheckpointLoadReport LoadTensors(ITensorSource source) =>
            ModuleCheckpointExtensions.LoadTensors(this, source, new CheckpointLoadOptions { KeyMap = k => k.Replace('.', '_') });
    }
}
