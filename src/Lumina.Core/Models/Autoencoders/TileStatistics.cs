using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// Makes the GroupNorm layers of a tiled VAE pass behave as if they saw the whole image. In
/// <see cref="TileStatisticsMode.Record"/> each <see cref="VaeGroupNorm"/> normalises with its tile's own statistics
/// and adds the sums of the region the tile owns (its core: the tiles' cores partition the image) to per-layer
/// accumulators; in <see cref="TileStatisticsMode.Apply"/> it normalises with the whole-image mean and variance
/// gathered that way. Layers are told apart by their call order, which is the same for every tile.
/// Active for the current thread between <see cref="Enter"/> and disposing the returned scope.
/// </summary>
internal sealed class TileStatistics : IDisposable
{
    [ThreadStatic] private static TileStatistics? _current;

    private readonly List<(Tensor Sum, Tensor SumSquares, long Count)> _sums = [];
    private readonly List<(Tensor Mean, Tensor Variance)> _stats = [];
    private int _layer;
    private (long Y0, long Y1, long X0, long X1, long Height) _core;

    /// <summary>The statistics active on this thread, if any.</summary>
    public static TileStatistics? Current => _current;

    /// <summary>What the GroupNorms do now.</summary>
    public TileStatisticsMode Mode { get; private set; } = TileStatisticsMode.Record;

    /// <summary>Activates these statistics for one tile whose owned region, in tile-local input cells, is
    /// [y0, y1) × [x0, x1) of a tile <paramref name="tileHeight"/> cells high.</summary>
    public IDisposable Enter(long y0, long y1, long x0, long x1, long tileHeight)
    {
        _core = (y0, y1, x0, x1, tileHeight);
        _layer = 0;
        var previous = _current;
        _current = this;
        return new Restore(previous);
    }

    /// <summary>Turns the recorded sums into whole-image statistics and switches to <see cref="TileStatisticsMode.Apply"/>.</summary>
    public void Finish()
    {
        foreach (var (sum, squares, count) in _sums)
        {
            using var scope = NewDisposeScope();
            var mean = sum / count;
            var variance = (squares / count - mean * mean).clamp_min_(0);
            _stats.Add((scope.Detach(mean.to(ScalarType.Float32)), scope.Detach(variance.to(ScalarType.Float32))));
            sum.Dispose();
            squares.Dispose();
        }
        _sums.Clear();
        Mode = TileStatisticsMode.Apply;
    }

    /// <summary>Normalises <paramref name="x"/> (B, C, H, W) by groups, recording or applying whole-image statistics.
    /// Returns the normalised tensor before the affine transform.</summary>
    public Tensor Normalize(Tensor x, int groups, double eps)
    {
        var layer = _layer++;
        long b = x.shape[0], c = x.shape[1];
        using var scope = NewDisposeScope();
        if (Mode == TileStatisticsMode.Record)
        {
            var scale = x.shape[2] / _core.Height;
            var core = x[TensorIndex.Colon, TensorIndex.Colon,
                TensorIndex.Slice(_core.Y0 * scale, _core.Y1 * scale), TensorIndex.Slice(_core.X0 * scale, _core.X1 * scale)];
            // Per-group mean and variance of the owned region, reduced in place over a (B, G, C/G, h, w) view, so no
            // copy of the activation is made; only the (B, G) results are widened to float64 for accumulation.
            var byGroup = core.view(b, groups, c / groups, core.shape[2], core.shape[3]);
            var (tileVariance, tileMean) = byGroup.var_mean([2, 3, 4], unbiased: false);
            var count = byGroup.shape[2] * byGroup.shape[3] * byGroup.shape[4];
            var mean64 = tileMean.to(ScalarType.Float64);
            var sum = mean64 * count;
            var squares = (tileVariance.to(ScalarType.Float64) + mean64.square()) * count;
            if (layer == _sums.Count)
            {
                _sums.Add((scope.Detach(sum), scope.Detach(squares), count));
            }
            else
            {
                var (s, q, n) = _sums[layer];
                s.add_(sum);
                q.add_(squares);
                _sums[layer] = (s, q, n + count);
            }
            return nn.functional.group_norm(x, groups, eps: eps).MoveToOuterDisposeScope();
        }
        if (layer >= _stats.Count)
            throw new InvalidOperationException("A tile ran more GroupNorm layers than were recorded; tiles must run the same layers.");
        var (mean, variance) = _stats[layer];
        var invStd = variance.add(eps).rsqrt_();
        var normed = x.reshape(b, groups, -1).sub(mean.unsqueeze(-1).to(x.dtype)).mul_(invStd.unsqueeze(-1).to(x.dtype));
        return normed.view(x.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the accumulated sums and statistics.</summary>
    public void Dispose()
    {
        foreach (var (sum, squares, _) in _sums)
        {
            sum.Dispose();
            squares.Dispose();
        }
        foreach (var (mean, variance) in _stats)
        {
            mean.Dispose();
            variance.Dispose();
        }
        _sums.Clear();
        _stats.Clear();
    }

    private sealed class Restore(TileStatistics? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}

/// <summary>What <see cref="TileStatistics"/> does in the GroupNorms.</summary>
internal enum TileStatisticsMode
{
    /// <summary>Normalise per tile; sum the owned region.</summary>
    Record,

    /// <summary>Normalise with the whole-image statistics.</summary>
    Apply,
}
