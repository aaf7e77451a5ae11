using Lumina.Checkpoints;
using Lumina.Models.DiT;
using Lumina.Nn;
using Lumina.Tensors;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.DiT;

/// <summary>The video layout: frames of patches joined by [nextframe] tokens, 3-D RoPE over (frame, row, col).</summary>
public sealed class NextDiTVideoTests
{
    internal static readonly NextDiTConfig TinyVideo = NextDiTCompositionalTests.Tiny with { Video = true };

    [Fact]
    public void OutputHasTheInputsFramesAndSize()
    {
        using var scope = NewDisposeScope();
        using var model = NextDiTCompositionalTests.RandomModel(TinyVideo, 1);
        var x = randn([2, 4, 3, 8, 12], generator: new Generator(2));
        using var noGrad = no_grad();
        var v = model.ForwardVideo(x, tensor(new[] { 0.2f, 0.7f }), randn(2, 5, 32, generator: new Generator(3)), ones(2, 5));
        Assert.Equal(new long[] { 2, 4, 3, 8, 12 }, v.shape);
        Assert.True(v.isfinite().all().item<bool>());
        var kept = model.ForwardVideo(x, tensor(new[] { 0.2f, 0.7f }), randn(2, 5, 32, generator: new Generator(3)), ones(2, 5),
            new NextDiTForwardOptions { KeepLearnedSigma = true });
        Assert.Equal(new long[] { 2, 8, 3, 8, 12 }, kept.shape);
        TensorAssert.Close(v, kept.narrow(1, 0, 4), atol: 0, rtol: 0, what: "learned sigma is the second half");
    }

    [Fact]
    public void PositionsPutEachSeparatorOneRowPastItsFrame()
    {
        using var positions = NextDiT.VideoPositions(frames: 2, rows: 1, cols: 2);
        Assert.Equal(NextDiT.VideoSequenceLength(2, 1, 2), positions.shape[0]);
        Assert.Equal(new float[]
        {
            0, 0, 0,   0, 0, 1,   // frame 0
            0, 1, 0,              // [nextframe]
            1, 0, 0,   1, 0, 1,   // frame 1 (no separator after the last frame)
        }, positions.data<float>().ToArray());
    }

    [Fact]
    public void OneFrameVideoHasNoSeparatorAndUsesThePlain3DTable()
    {
        using var scope = NewDisposeScope();
        using var model = NextDiTCompositionalTests.RandomModel(TinyVideo, 4);
        var table = model.VideoRotaryTable(1, 4, 6);
        var plain = RotaryEmbedding.Table3D(1, 4, 6, TinyVideo.HeadDim);
        Assert.Equal(plain.shape, table.shape);
        TensorAssert.Close(view_as_real(plain), view_as_real(table), atol: 0, rtol: 0, what: "a 1-frame video's table is the 3-D table at frame 0");

        var x = randn([1, 4, 1, 8, 12], generator: new Generator(5));
        var cap = randn(1, 5, 32, generator: new Generator(6));
        using var noGrad = no_grad();
        var before = model.ForwardVideo(x, tensor(new[] { 0.5f }), cap, ones(1, 5));
        model.get_parameter("nextframe_token")!.copy_(randn(TinyVideo.Dim, generator: new Generator(7)));
        var after = model.ForwardVideo(x, tensor(new[] { 0.5f }), cap, ones(1, 5));
        TensorAssert.Close(before, after, atol: 0, rtol: 0, what: "one frame does not read [nextframe]");

        var twoFrames = randn([1, 4, 2, 8, 12], generator: new Generator(8));
        var a = model.ForwardVideo(twoFrames, tensor(new[] { 0.5f }), cap, ones(1, 5));
        model.get_parameter("nextframe_token")!.copy_(randn(TinyVideo.Dim, generator: new Generator(9)));
        var b = model.ForwardVideo(twoFrames, tensor(new[] { 0.5f }), cap, ones(1, 5));
        Assert.True((a - b).abs().max().item<float>() > 1e-4, "two frames attend to the [nextframe] token between them");
    }

    [Fact]
    public void AVideoModelSeesAnImageAsAOneFrameVideo()
    {
        using var scope = NewDisposeScope();
        using var model = NextDiTCompositionalTests.RandomModel(TinyVideo, 20);
        var x = randn(2, 4, 8, 12, generator: new Generator(21));
        var t = tensor(new[] { 0.3f, 0.6f });
        var cap = randn(2, 5, 32, generator: new Generator(22));
        using var noGrad = no_grad();
        var image = model.Forward(x, t, cap, ones(2, 5));
        var video = model.ForwardVideo(x.unsqueeze(2), t, cap, ones(2, 5));
        TensorAssert.Close(image, video.squeeze(2), atol: 1e-6, rtol: 0, what: "image forward vs 1-frame video forward");
    }

    [Fact]
    public void FramesAttendToEachOther()
    {
        using var scope = NewDisposeScope();
        using var model = NextDiTCompositionalTests.RandomModel(TinyVideo, 10);
        var x = randn([1, 4, 3, 8, 8], generator: new Generator(11));
        var cap = randn(1, 5, 32, generator: new Generator(12));
        using var noGrad = no_grad();
        var a = model.ForwardVideo(x, tensor(new[] { 0.5f }), cap, ones(1, 5));
        var y = x.clone();
        y[0, .., 2] = randn(4, 8, 8, generator: new Generator(13));
        var b = model.ForwardVideo(y, tensor(new[] { 0.5f }), cap, ones(1, 5));
        Assert.True((a[.., .., 0] - b[.., .., 0]).abs().max().item<float>() > 1e-4, "frame 0 sees frame 2 through self-attention");
    }

    [Fact]
    public void GuidedVideoForwardAppliesGuidanceToBothHalves()
    {
        using var scope = NewDisposeScope();
        using var model = NextDiTCompositionalTests.RandomModel(TinyVideo, 14);
        var x = randn([2, 4, 2, 4, 4], generator: new Generator(15));
        var t = tensor(new[] { 0.5f, 0.5f });
        var cap = randn(2, 5, 32, generator: new Generator(16));
        using var noGrad = no_grad();
        var guided = UpstreamCfg.Run((input, time) => model.ForwardVideo(input, time, cap, ones(2, 5)), x, 0.5, 3.0);
        var raw = model.ForwardVideo(cat([x[..1], x[..1]], 0), t, cap, ones(2, 5));
        var expected = raw[1..].narrow(1, 0, 3) + (raw[..1].narrow(1, 0, 3) - raw[1..].narrow(1, 0, 3)) * 3.0;
        TensorAssert.Close(expected, guided[..1].narrow(1, 0, 3), what: "guided channels");
        TensorAssert.Close(expected, guided[1..].narrow(1, 0, 3), what: "second half");
    }

    [Fact]
    public void VideoWeightsRoundTripInBothLayoutsStrictly()
    {
        using var temp = new TempFolder("lumina-video-dit");
        using var scope = NewDisposeScope();
        using var model = NextDiTCompositionalTests.RandomModel(TinyVideo, 17);
        Assert.Contains("nextframe_token", model.state_dict().Keys);
        var original = Path.Combine(temp.Path, "consolidated.00-of-01.safetensors");
        var diffusers = Path.Combine(temp.Path, "diffusion_pytorch_model.safetensors");
        model.SaveSafetensors(original);
        NextDiTCheckpoint.SaveDiffusers(model, diffusers);
        using var a = new NextDiT(TinyVideo);
        using var b = new NextDiT(TinyVideo);
        a.LoadSafetensors(original);
        NextDiTCheckpoint.Load(b, diffusers);
        foreach (var (name, p) in model.state_dict())
        {
            TensorAssert.Close(p, a.state_dict()[name], atol: 0, rtol: 0, what: name);
            TensorAssert.Close(p, b.state_dict()[name], atol: 0, rtol: 0, what: name);
        }
        // An image model refuses video weights (the extra key), and a video model image weights (the missing one).
        using var image = new NextDiT(NextDiTCompositionalTests.Tiny);
        Assert.Throws<CheckpointMismatchException>(() => image.LoadSafetensors(original));
    }

    [Fact]
    public void InvalidVideoInputsThrow()
    {
        using var scope = NewDisposeScope();
        using var image = NextDiTCompositionalTests.RandomModel(NextDiTCompositionalTests.Tiny, 18);
        Assert.Throws<InvalidOperationException>(() => image.ForwardVideo(zeros([1, 4, 2, 8, 8]), zeros(1), zeros(1, 5, 32), ones(1, 5)));
        using var model = NextDiTCompositionalTests.RandomModel(TinyVideo, 19);
        Assert.Contains("[B, 4, F, H, W]", Assert.Throws<ArgumentException>(() => model.ForwardVideo(zeros(1, 4, 8, 8), zeros(1), zeros(1, 5, 32), ones(1, 5))).Message);
        Assert.Contains("[B, 4, F, H, W]", Assert.Throws<ArgumentException>(() => model.ForwardVideo(zeros([1, 4, 0, 8, 8]), zeros(1), zeros(1, 5, 32), ones(1, 5))).Message);
        Assert.Contains("patch size", Assert.Throws<ArgumentException>(() => model.ForwardVideo(zeros([1, 4, 2, 7, 8]), zeros(1), zeros(1, 5, 32), ones(1, 5))).Message);
        Assert.Contains("Timesteps", Assert.Throws<ArgumentException>(() => model.ForwardVideo(zeros([1, 4, 2, 8, 8]), zeros(2), zeros(1, 5, 32), ones(1, 5))).Message);
        Assert.Contains("divisible by 6", Assert.Throws<ArgumentException>(() => new NextDiT(NextDiTCompositionalTests.Tiny with { Dim = 32, Heads = 2, Video = true })).Message);
    }
}
