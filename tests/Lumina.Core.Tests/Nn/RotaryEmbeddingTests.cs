using Lumina.Models.DiT;
using Lumina.Nn;
using Lumina.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Core.Tests.Nn;

/// <summary>
/// Rotary tables against the spec formulas, evaluated independently in double precision here:
/// pair j = k·A + a rotates by pos_a · f_k with f_k = 1/(θ·ntk)^(2A·k/hd) / linear.
/// </summary>
public sealed class RotaryEmbeddingTests
{
    private static Tensor Expected(double[][] positions, int headDim, double theta, double linear, double ntk)
    {
        var axes = positions[0].Length;
        var pairs = headDim / 2;
        var data = new float[positions.Length * pairs * 2];
        for (var n = 0; n < positions.Length; n++)
            for (var j = 0; j < pairs; j++)
            {
                var k = j / axes;
                var a = j % axes;
                var f = 1.0 / Math.Pow(theta * ntk, 2.0 * axes * k / headDim) / linear;
                var angle = positions[n][a] * f;
                data[(n * pairs + j) * 2] = (float)Math.Cos(angle);
                data[(n * pairs + j) * 2 + 1] = (float)Math.Sin(angle);
            }
        return tensor(data).view(positions.Length, pairs, 2);
    }

    private static double[][] Grid(int rows, int cols) =>
        Enumerable.Range(0, rows * cols).Select(i => new double[] { i / cols, i % cols }).ToArray();

    [Fact]
    public void NextDiTTableAtLaterTimestepsIsNtkScaled()
    {
        using var scope = NewDisposeScope();
        // t ≥ watershed: θ·s, no linear factor.
        var scaling = RopeScaling.TimeAware(scaleFactor: 2.0, watershed: 0.3, timestep: 0.7);
        Assert.Equal(new RopeScaling(1.0, 2.0), scaling);
        var table = RotaryEmbedding.Table2D(5, 7, 24, scaling: scaling);
        TensorAssert.Close(Expected(Grid(5, 7), 24, 10000, 1.0, 2.0), view_as_real(table), what: "NTK 2-D table");
    }

    [Fact]
    public void NextDiTTableAtEarlyTimestepsIsLinearlyScaled()
    {
        using var scope = NewDisposeScope();
        var scaling = RopeScaling.TimeAware(2.0, 0.3, 0.1);
        Assert.Equal(new RopeScaling(2.0, 1.0), scaling);
        var table = RotaryEmbedding.Table2D(4, 3, 16, scaling: scaling);
        TensorAssert.Close(Expected(Grid(4, 3), 16, 10000, 2.0, 1.0), view_as_real(table), what: "linear 2-D table");
    }

    [Fact]
    public void NextDiTModelUsesTheTimeOfTheFirstSampleForItsTable()
    {
        using var scope = NewDisposeScope();
        using var model = new NextDiT(new NextDiTConfig { Dim = 32, Heads = 2, KvHeads = 1, Layers = 0, CaptionDim = 8, MultipleOf = 16 });
        var options = new NextDiTForwardOptions { ScaleFactor = 3.0, ScaleWatershed = 0.5 };
        TensorAssert.Close(Expected(Grid(3, 4), 16, 10000, 1.0, 3.0), view_as_real(model.RotaryTable(3, 4, 0.9, options)), what: "late");
        TensorAssert.Close(Expected(Grid(3, 4), 16, 10000, 3.0, 1.0), view_as_real(model.RotaryTable(3, 4, 0.2, options)), what: "early");
        // Upstream's constructor scale_factor gives an NTK table by default (built at t = 1 with watershed 1).
        using var ctorScaled = new NextDiT(new NextDiTConfig { Dim = 32, Heads = 2, KvHeads = 1, Layers = 0, CaptionDim = 8, MultipleOf = 16, ScaleFactor = 2.0 });
        TensorAssert.Close(Expected(Grid(3, 4), 16, 10000, 1.0, 2.0), view_as_real(ctorScaled.RotaryTable(3, 4)), what: "ctor");
    }

    [Fact]
    public void FlagDiTScaledTableDividesPositionsAndScalesTheta()
    {
        using var scope = NewDisposeScope();
        var positions = Enumerable.Range(0, 50).Select(i => new double[] { i / 2.5 }).ToArray();
        var expected = Expected(positions, 20, 10000, 1.0, 4.0);
        TensorAssert.Close(expected, view_as_real(RotaryEmbedding.Table1D(50, 20, positionScale: 2.5, ntkFactor: 4.0)), what: "1-D scaled");

        using var model = new FlagDiT(new FlagDiTConfig { Dim = 40, Heads = 2, Layers = 0, CaptionDim = 8, MultipleOf = 16 });
        var options = new FlagDiTForwardOptions { RopeScalingFactor = 2.5, NtkFactor = 4.0 };
        TensorAssert.Close(expected, view_as_real(model.RotaryTable(50, options)), what: "FlagDiT options");
        using var configured = new FlagDiT(new FlagDiTConfig { Dim = 40, Heads = 2, Layers = 0, CaptionDim = 8, MultipleOf = 16, RopeScalingFactor = 2.5, NtkFactor = 4.0 });
        TensorAssert.Close(expected, view_as_real(configured.RotaryTable(50)), what: "FlagDiT config");
        Assert.Throws<ArgumentException>(() => model.RotaryTable(40001));
    }

    [Fact]
    public void ThreeDimensionalTableInterleavesFrameRowAndColumn()
    {
        using var scope = NewDisposeScope();
        var positions = Enumerable.Range(0, 2 * 3 * 4).Select(i => new double[] { i / 12, i / 4 % 3, i % 4 }).ToArray();
        var table = RotaryEmbedding.Table3D(2, 3, 4, 24, scaling: new RopeScaling(1.5, 2.0));
        TensorAssert.Close(Expected(positions, 24, 10000, 1.5, 2.0), view_as_real(table), what: "3-D table");
        Assert.Throws<ArgumentException>(() => RotaryEmbedding.Table3D(1, 1, 1, 16)); // 16 is not divisible by 6
    }

    [Fact]
    public void ApplyRotatesConsecutivePairs()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 4, 8, generator: new Generator(3));
        var table = RotaryEmbedding.Table1D(3, 8);
        var y = RotaryEmbedding.Apply(x, table);
        var tr = view_as_real(table); // [3, 4, 2]
        var c = tr[.., .., 0].view(1, 3, 1, 4);
        var s = tr[.., .., 1].view(1, 3, 1, 4);
        var x0 = x[.., .., .., TensorIndex.Slice(0, null, 2)];
        var x1 = x[.., .., .., TensorIndex.Slice(1, null, 2)];
        var expected = stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).view(2, 3, 4, 8);
        TensorAssert.Close(expected, y, what: "pair rotation");
        Assert.Throws<ArgumentException>(() => RotaryEmbedding.Apply(x, RotaryEmbedding.Table1D(4, 8)));
    }
}
