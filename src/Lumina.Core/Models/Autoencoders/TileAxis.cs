using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// Where tiles sit along one axis, and the blend weight of every output position in every tile. Starts are spread
/// evenly so the last tile ends exactly at the edge (no ragged remainder). Each tile's weight ramps linearly across
/// the part it shares with a neighbour and the weights are normalised to sum to 1 at every position, so overlapping
/// tiles cross-fade and unshared positions keep one tile's value exactly.
/// </summary>
internal sealed class TileAxis
{
    private TileAxis(int[] starts, int tile, int length)
    {
        Starts = starts;
        Tile = tile;
        Length = length;
    }

    /// <summary>Tile starts in input units (latent cells).</summary>
    public int[] Starts { get; }

    /// <summary>Tile length in input units (the last tile may be shorter only when the axis is shorter than a tile).</summary>
    public int Tile { get; }

    /// <summary>Axis length in input units.</summary>
    public int Length { get; }

    /// <summary>Number of tiles.</summary>
    public int Count => Starts.Length;

    /// <summary>End (exclusive) of tile <paramref name="i"/>.</summary>
    public int End(int i) => Math.Min(Starts[i] + Tile, Length);

    /// <summary>
    /// The part of tile <paramref name="i"/> it owns, tile-local, in input units: from the middle of its overlap with
    /// the previous tile to the middle of its overlap with the next. The tiles' cores partition the axis.
    /// </summary>
    public (int Start, int End) Core(int i)
    {
        var start = i == 0 ? 0 : (Starts[i] + End(i - 1)) / 2;
        var end = i == Count - 1 ? Length : (Starts[i + 1] + End(i)) / 2;
        return (start - Starts[i], end - Starts[i]);
    }

    /// <summary>Plans an axis of <paramref name="length"/> cells with tiles of <paramref name="tile"/> sharing at least <paramref name="overlap"/>.</summary>
    public static TileAxis Plan(int length, int tile, int overlap)
    {
        if (length <= tile) return new TileAxis([0], length, length);
        overlap = Math.Clamp(overlap, 1, tile / 2);
        var count = (int)Math.Ceiling((length - overlap) / (double)(tile - overlap));
        count = Math.Max(count, 2);
        var starts = new int[count];
        for (var i = 0; i < count; i++) starts[i] = (int)Math.Round(i * (length - tile) / (double)(count - 1));
        return new TileAxis(starts, tile, length);
    }

    /// <summary>
    /// Normalised blend weights of every tile at output resolution (each input cell covers <paramref name="scale"/>
    /// output positions): a float64 array per tile, of length (End − Start) · scale.
    /// </summary>
    public double[][] Weights(int scale)
    {
        var raw = new double[Count][];
        var sum = new double[Length * scale];
        for (var i = 0; i < Count; i++)
        {
            int start = Starts[i] * scale, end = End(i) * scale, n = end - start;
            int rampIn = i > 0 ? Math.Max(0, End(i - 1) * scale - start) : 0;
            int rampOut = i < Count - 1 ? Math.Max(0, end - Starts[i + 1] * scale) : 0;
            var w = new double[n];
            for (var p = 0; p < n; p++)
            {
                var v = 1.0;
                if (rampIn > 0) v = Math.Min(v, (p + 0.5) / rampIn);
                if (rampOut > 0) v = Math.Min(v, (n - p - 0.5) / rampOut);
                w[p] = v;
                sum[start + p] += v;
            }
            raw[i] = w;
        }
        for (var i = 0; i < Count; i++)
        {
            var start = Starts[i] * scale;
            for (var p = 0; p < raw[i].Length; p++) raw[i][p] /= sum[start + p];
        }
        return raw;
    }

    /// <summary>The weights of one tile as a tensor.</summary>
    public static Tensor ToTensor(double[] weights, ScalarType dtype, Device device) =>
        tensor(weights, dtype: ScalarType.Float64).to(dtype, device);
}
