using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;

namespace Lumina.Core.Tests.Tensors;

/// <summary>
/// The Q8_0/Q4_0/Q4_1 encoder: byte-identical to gguf-py (as llama-quantize) on every quantized tensor of the golden
/// files, and a round trip through <see cref="GgmlDequantizer"/> stays within half a quantization step.
/// </summary>
public sealed class GgmlQuantizerTests
{
    [Theory]
    [InlineData("Q8_0")]
    [InlineData("Q4_0")]
    [InlineData("Q4_1")]
    public void EncodesTheGoldenFilesBlocksByteForByte(string fileType)
    {
        // The quantized files were made from the F16 file's values, exactly dequantized to float32.
        using var source = GgufFile.Open(Path.Combine(Golden.Directory, "lumina2.F16.gguf"));
        using var file = GgufFile.Open(Path.Combine(Golden.Directory, $"lumina2.{fileType}.gguf"));
        var checkedTensors = 0;
        foreach (var info in file.TensorInfos.Where(t => t.Type.IsQuantized()))
        {
            using var values = source.Read(info.Name, torch.ScalarType.Float32);
            using var encoded = GgmlQuantizer.Quantize(info.Type, values);
            using var want = file.ReadRaw(info.Name);
            Assert.True(want.numel() == encoded.numel() && want.eq(encoded).all().item<bool>(), $"{info.Name} ({info.Type}) differs from gguf-py's blocks");
            checkedTensors++;
        }
        Assert.Equal(12, checkedTensors);
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 127)]
    [InlineData(GgmlType.Q4_0, 4)] // the extreme opposite the largest magnitude clips by up to one step (d = amax / 8)
    [InlineData(GgmlType.Q4_1, 15)]
    public void RoundTripStaysWithinHalfAStep(GgmlType type, int levels)
    {
        var generator = new torch.Generator(11);
        using var values = torch.randn([64, 256], generator: generator) * torch.logspace(-3, 1, 64).unsqueeze(1);
        values[3].zero_(); // an all-zero block encodes d = 0
        using var raw = GgmlQuantizer.Quantize(type, values);
        Assert.Equal(64 * 256 / 32 * type.TypeSize(), raw.numel());
        using var back = GgmlDequantizer.Dequantize(type, raw, [64, 256]);
        using var blocks = values.reshape(-1, 32);
        using var range = type == GgmlType.Q4_1 ? blocks.amax(1) - blocks.amin(1) : blocks.abs().amax(1);
        // Half a step of the block's scale, plus the fp16 rounding of the scale itself.
        using var bound = (range / levels * 0.5 + range * 2e-3 + 1e-7).unsqueeze(1);
        using var error = (back.reshape(-1, 32) - blocks).abs();
        Assert.True(error.le(bound).all().item<bool>(), $"max error {error.max().item<float>()}");
        Assert.True(back[3].eq(0).all().item<bool>());
        // Encoding the decoded values again gives the same blocks (Q8_0/Q4_1 grids are fixed points).
        if (type != GgmlType.Q4_0)
        {
            using var again = GgmlQuantizer.Quantize(type, back);
            Assert.True(again.eq(raw).all().item<bool>(), "re-encoding the decoded values changed blocks");
        }
    }

    [Fact]
    public void RefusesTypesAndShapesItCannotEncode()
    {
        Assert.Throws<NotSupportedException>(() => GgmlQuantizer.Quantize(GgmlType.Q4_K, torch.zeros(256)));
        Assert.Throws<ArgumentException>(() => GgmlQuantizer.Quantize(GgmlType.Q8_0, torch.zeros(4, 33)));
    }
}
