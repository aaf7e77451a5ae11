using Lumina.Models.TextEncoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.TextEncoders;

/// <summary>Full-size presets built on the meta device have the published parameter counts.</summary>
public class ParameterCountTests
{
    private static readonly Device Meta = new("meta");

    // Tied parameters (T5's shared embedding) count once, as PyTorch's parameters() does.
    internal static long CountParameters(nn.Module module) =>
        module.parameters().DistinctBy(p => p.Handle).Sum(p => p.numel());

    [Fact]
    public void Gemma2BHasPublishedCount()
    {
        using var model = new DecoderTextModel(GemmaConfig.Gemma2B, Meta);
        Assert.Equal(2_506_172_416L, CountParameters(model));
    }

    [Fact]
    public void Llama2_7BHasPublishedCountWithAndWithoutLmHead()
    {
        var config = LlamaConfig.Llama2_7B;
        using var model = new DecoderTextModel(config, Meta);
        long body = CountParameters(model);
        Assert.Equal(6_607_343_616L, body);
        using var lmHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, device: Meta);
        Assert.Equal(6_738_415_616L, body + CountParameters(lmHead));
    }

    [Fact]
    public void FlanT5LargeEncoderCount()
    {
        using var model = new T5EncoderModel(T5Config.FlanT5LargeEncoder, Meta);
        // 24 blocks × 12,847,104 + tied embedding 32,128×1,024 + relative bias 32×16 + final norm 1,024.
        Assert.Equal(341_231_104L, CountParameters(model));
    }

    [Fact]
    public void Gemma2_2BIsSized()
    {
        using var model = new DecoderTextModel(Gemma2Config.Gemma2_2B, Meta);
        // 256000×2304 embedding + 26 layers × (attention 2304×(2048+1024+1024) + 2048×2304, MLP 3×2304×9216, 4 norms) + final norm.
        long perLayer = 2304L * (2048 + 1024 + 1024) + 2048L * 2304 + 3L * 2304 * 9216 + 4 * 2304;
        Assert.Equal(256000L * 2304 + 26 * perLayer + 2304, CountParameters(model));
    }
}
