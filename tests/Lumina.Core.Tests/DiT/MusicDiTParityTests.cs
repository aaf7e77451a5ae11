using Lumina.Models.DiT;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>The golden part 'music_dit' (upstream lumina_music FlagDiTv2).</summary>
public sealed class MusicDiTParityTests
{
    internal static MusicDiTConfig GoldenConfig()
    {
        var c = Golden.Json("music_dit")["config"]!;
        return new MusicDiTConfig
        {
            InChannels = (int)c["in_channels"]!, CaptionDim = (int)c["context_dim"]!, Dim = (int)c["hidden_size"]!,
            Layers = (int)c["depth"]!, Heads = (int)c["num_heads"]!, MaxLength = (int)c["max_len"]!,
        };
    }

    [Fact]
    public void ForwardMatchesUpstream()
    {
        using var scope = NewDisposeScope();
        using var model = new MusicDiT(GoldenConfig());
        model.LoadSafetensors(Golden.WeightsPath("music_dit"));
        using var cases = Golden.OpenCases("music_dit");
        Tensor output;
        using (no_grad()) output = model.Forward(cases.Read("x"), cases.Read("t"), cases.Read("context"));
        TensorAssert.Close(cases.Read("out.forward"), output, what: "out.forward");

        // An explicit all-ones mask is the same as upstream's implicit one.
        var ctx = cases.Read("context");
        using (no_grad())
        {
            var masked = model.Forward(cases.Read("x"), cases.Read("t"), ctx, ones(ctx.shape[0], ctx.shape[1], dtype: ScalarType.Int32));
            TensorAssert.Close(output, masked, atol: 0, rtol: 0, what: "all-ones mask");
        }
    }

    [Fact]
    public void TooLongClipIsRejectedWithTheLimit()
    {
        using var model = new MusicDiT(GoldenConfig() with { Layers = 0 });
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(zeros(1, 20, 101), zeros(1), zeros(1, 3, 32)));
        Assert.Contains("100", ex.Message);
    }
}
