using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;

namespace Lumina.Core.Tests.Tensors;

/// <summary>Every golden file opens through the reader, matches its json listing, and round-trips byte-for-byte.</summary>
public sealed class GoldenFileTests
{
    public static TheoryData<string> AllGoldenFiles()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Golden.Directory, "*.safetensors").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(AllGoldenFiles))]
    public void OpensAndMatchesTheJsonListing(string fileName)
    {
        var path = Path.Combine(Golden.Directory, fileName);
        var part = fileName[..fileName.IndexOf('.')];
        // <part>.weights / .cases / .merged files are listed in <part>.json; the others (a LoRA adapter, gguf-py's
        // dequantized tensors) have no listing and only need to open and read.
        var kind = fileName.Split('.') is { Length: 3 } pieces ? pieces[1] : null;
        var listingKey = kind is "weights" or "cases" or "merged" ? kind + "_keys" : null;
        var jsonPath = Path.Combine(Golden.Directory, part + ".json");
        using var file = SafetensorsFile.Open(path);
        if ((listingKey is null || !File.Exists(jsonPath) ? null : Golden.Json(part)[listingKey] as JsonObject) is not { } listing)
        {
            foreach (var t in file.Tensors)
            {
                using var value = file.Read(t.Name);
                Assert.Equal(t.Shape, value.shape);
            }
            return;
        }

        Assert.Equal(listing.Select(kv => kv.Key).Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var (name, node) in listing)
        {
            var info = file.Tensors.Single(t => t.Name == name);
            // weights_keys lists shapes; cases_keys lists [shape, "torch.dtype"] (newer parts write "float32").
            var isCase = node is JsonArray { Count: 2 } pair && pair[1]?.GetValueKind() == System.Text.Json.JsonValueKind.String;
            var shapeNode = isCase ? node![0]! : node!;
            Assert.Equal(shapeNode.AsArray().Select(d => d!.GetValue<long>()), info.Shape);
            if (isCase)
                Assert.Equal(ExpectedDType(node![1]!.GetValue<string>()), info.DType);
            using var tensor = file.Read(name);
            Assert.Equal(info.Shape, tensor.shape);
            Assert.Equal(info.DType.ToScalarType(), tensor.dtype);
        }
    }

    [Theory]
    [MemberData(nameof(AllGoldenFiles))]
    public void RoundTripsThroughTheWriterByteForByte(string fileName)
    {
        var source = Path.Combine(Golden.Directory, fileName);
        using var temp = new TempFolder();
        var copy = Path.Combine(temp.Path, fileName);
        using (var file = SafetensorsFile.Open(source))
        {
            var tensors = file.Tensors.Select(t => new KeyValuePair<string, torch.Tensor>(t.Name, file.Read(t.Name))).ToList();
            try { SafetensorsWriter.Write(copy, tensors, file.Metadata); }
            finally { tensors.ForEach(kv => kv.Value.Dispose()); }
        }

        using var original = SafetensorsFile.Open(source);
        using var written = SafetensorsFile.Open(copy);
        Assert.Equal(original.Metadata, written.Metadata);
        Assert.Equal(original.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape))), written.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape))));
        foreach (var info in original.Tensors)
            Assert.Equal(original.ReadBytes(info.Name), written.ReadBytes(info.Name));
        // The data sections are laid out in the same order, so they are identical as a whole too.
        Assert.Equal(DataSection(source), DataSection(copy));
    }

    [Fact]
    public void ReadConvertsToTheRequestedType()
    {
        using var file = SafetensorsFile.Open(Golden.CasesPath("nextdit"));
        using var asFloat = file.Read("x");
        using var asDouble = file.Read("x", torch.float64);
        using var mask = file.Read("cap_mask", torch.int64);
        Assert.Equal(torch.float64, asDouble.dtype);
        Assert.Equal(torch.int64, mask.dtype);
        using var back = asDouble.to(torch.float32);
        TensorAssert.Equal(asFloat, back);
    }

    private static byte[] DataSection(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return bytes[(8 + headerLength)..];
    }

    private static SafetensorsDType ExpectedDType(string torchName) => (torchName.StartsWith("torch.", StringComparison.Ordinal) ? torchName : "torch." + torchName) switch
    {
        "torch.float32" => SafetensorsDType.F32,
        "torch.float64" => SafetensorsDType.F64,
        "torch.float16" => SafetensorsDType.F16,
        "torch.bfloat16" => SafetensorsDType.BF16,
        "torch.int64" => SafetensorsDType.I64,
        "torch.int32" => SafetensorsDType.I32,
        "torch.int16" => SafetensorsDType.I16,
        "torch.int8" => SafetensorsDType.I8,
        "torch.uint8" => SafetensorsDType.U8,
        "torch.bool" => SafetensorsDType.BOOL,
        _ => throw new ArgumentOutOfRangeException(nameof(torchName), torchName, "Unknown torch dtype in a golden listing."),
    };
}
