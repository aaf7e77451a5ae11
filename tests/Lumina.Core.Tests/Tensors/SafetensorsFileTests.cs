using System.Buffers.Binary;
using System.Text;
using Lumina.Tensors;
using Lumina.Testing;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Tensors;

public sealed class SafetensorsFileTests
{
    private static byte[] FileWithHeader(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    [Fact]
    public void WritesAndReadsEverySupportedDTypeWithMetadata()
    {
        using var temp = new TempFolder();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = randn(3, dtype: float64), ["f32"] = randn(2, 2), ["f16"] = randn(5, dtype: float16),
            ["bf16"] = randn(1, 3, dtype: bfloat16), ["i64"] = arange(4, dtype: int64), ["i32"] = arange(3, dtype: int32),
            ["i16"] = arange(2, dtype: int16), ["i8"] = tensor(new sbyte[] { -3, 4 }), ["u8"] = tensor(new byte[] { 0, 255 }),
            ["bool"] = tensor(new[] { true, false, true }), ["scalar"] = tensor(1.5f), ["empty"] = zeros(0, 4),
        };
        var path = temp.File("all.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode ✓" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("ünïcode ✓", file.Metadata["note"]);
        foreach (var (name, expected) in tensors)
        {
            using var actual = file.Read(name);
            TensorAssert.Equal(expected, actual, name);
        }
        Assert.Equal(SafetensorsDType.BF16, file.GetInfo("bf16").DType);
        Assert.Empty(file.GetInfo("scalar").Shape);
    }

    [Fact]
    public void UnsupportedDTypeGetsAClearError()
    {
        using var temp = new TempFolder();
        var path = temp.File("f8.safetensors");
        File.WriteAllBytes(path, FileWithHeader("{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(SafetensorsDType.F8_E4M3, file.GetInfo("x").DType);
        var ex = Assert.Throws<SafetensorsException>(() => file.Read("x"));
        Assert.Contains("F8_E4M3", ex.Message);
        Assert.Contains("not support", ex.Message);
    }

    [Fact]
    public void UnknownTensorNameSaysWhatTheFileHolds()
    {
        using var file = SafetensorsFile.Open(Golden.CasesPath("nextdit"));
        var ex = Assert.Throws<KeyNotFoundException>(() => file.Read("nope"));
        Assert.Contains("nope", ex.Message);
    }

    [Fact]
    public void ABoolTensorWithOtherBytesIsRejected()
    {
        using var temp = new TempFolder();
        var path = temp.File("bool.safetensors");
        var bytes = FileWithHeader("{\"b\":{\"dtype\":\"BOOL\",\"shape\":[8],\"data_offsets\":[0,8]}}", 8);
        bytes[^3] = 7;
        File.WriteAllBytes(path, bytes);
        using var file = SafetensorsFile.Open(path);
        Assert.Throws<SafetensorsException>(() => file.Read("b"));
    }

    [Fact]
    public void AFailedWriteLeavesNoFileBehind()
    {
        using var temp = new TempFolder();
        using var good = ones(3);
        using var complex = ones(2, dtype: complex64);
        var path = temp.File("out.safetensors");
        Assert.Throws<NotSupportedException>(() => SafetensorsWriter.Write(path, [new("good", good), new("bad", complex)]));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => SafetensorsWriter.Write(path, [new("good", good)], cancellationToken: cts.Token));
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("a", good), new("a", good)]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("__metadata__", good)]));
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void AFileThatShrinksAfterOpeningFailsCleanly()
    {
        using var temp = new TempFolder();
        var path = temp.File("shrink.safetensors");
        using (var big = randn(1000))
            SafetensorsWriter.Write(path, [new("x", big)]);
        using var file = SafetensorsFile.Open(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            stream.SetLength(200);
        var ex = Assert.Throws<SafetensorsException>(() => file.Read("x"));
        Assert.Contains("truncated", ex.Message);
    }
}
