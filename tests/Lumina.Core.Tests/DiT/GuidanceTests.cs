using Lumina.Guidance;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

public sealed class GuidanceTests
{
    [Fact]
    public void LuminaModeGuidesChannelsZeroToTwoAndKeepsChannelThreePerHalf()
    {
        using var scope = NewDisposeScope();
        var output = randn(4, 4, 3, 3, generator: new Generator(5)); // [cond(2); uncond(2)]
        var guided = ClassifierFreeGuidance.Combine(output, 4.0);
        var cond = output.narrow(0, 0, 2);
        var uncond = output.narrow(0, 2, 2);
        var mixed = uncond.narrow(1, 0, 3) + 4.0 * (cond.narrow(1, 0, 3) - uncond.narrow(1, 0, 3));
        TensorAssert.Close(mixed, guided.narrow(0, 0, 2).narrow(1, 0, 3));
        TensorAssert.Close(mixed, guided.narrow(0, 2, 2).narrow(1, 0, 3));
        TensorAssert.Equal(output.narrow(1, 3, 1), guided.narrow(1, 3, 1));
    }

    [Fact]
    public void AllChannelModeGuidesEveryChannel()
    {
        using var scope = NewDisposeScope();
        var output = randn(2, 5, 7, generator: new Generator(6));
        var guided = ClassifierFreeGuidance.Combine(output, 2.5, GuidanceChannels.All);
        var mixed = output[1] + 2.5 * (output[0] - output[1]);
        TensorAssert.Close(mixed, guided[0]);
        TensorAssert.Close(mixed, guided[1]);
    }

    [Fact]
    public void GuidedWrapperFeedsTheFirstHalfTwiceAndSingleWrapperDuplicates()
    {
        using var scope = NewDisposeScope();
        Tensor? seen = null;
        BatchedModel model = (x, t) => { seen = x.clone().DetachFromDisposeScope(); return x * t.view(-1, 1, 1, 1); };
        var x = randn(2, 4, 2, 2, generator: new Generator(8));
        var t = tensor(new[] { 1f, 3f });
        var v = ClassifierFreeGuidance.Guided(model, 2.0)(x, t);
        TensorAssert.Equal(cat([x[..1], x[..1]], 0), seen!);
        // out = x0·3 + 2·(x0·1 − x0·3) on channels 0..2, raw per half on channel 3.
        TensorAssert.Close(x[..1].narrow(1, 0, 3) * -1, v[..1].narrow(1, 0, 3));
        TensorAssert.Close(x[..1].narrow(1, 3, 1) * 3, v[1..].narrow(1, 3, 1));

        var single = ClassifierFreeGuidance.GuidedSingle(model, 2.0, GuidanceChannels.All)(x[..1], tensor(new[] { 1f }));
        Assert.Equal([1L, 4, 2, 2], single.shape);
    }

    [Fact]
    public void OddBatchIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => ClassifierFreeGuidance.Combine(zeros(3, 4), 1.0));
        Assert.Contains("even", ex.Message);
    }
}
