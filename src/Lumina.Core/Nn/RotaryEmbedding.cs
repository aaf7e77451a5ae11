using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// Rotary position tables (complex64, one unit phasor per consecutive channel pair) and their application.
/// <para>
/// One layout covers 1-D, 2-D and 3-D: with A position axes, a head of width hd has F = hd/(2A) frequencies
/// <c>f_k = 1 / (θ·ntk)^(2A·k/hd) / linear</c>, and pair <c>j = k·A + a</c> rotates by <c>pos_a · f_k</c>: the axes
/// are interleaved per frequency. A = 1 is Flag-DiT's and the music DiT's 1-D RoPE, A = 2 is Next-DiT's
/// <c>[h0, w0, h1, w1, …]</c> table and A = 3 gives <c>[t0, h0, w0, t1, …]</c> for video frames.
/// </para>
/// </summary>
internal static class RotaryEmbedding
{
    /// <summary>The base θ of every Lumina model.</summary>
    public const double DefaultTheta = 10000.0;

    /// <summary>The frequencies f_k (float32, [hd/(2A)]) for <paramref name="axes"/> interleaved axes.</summary>
    /// <param name="headDim">Head width; must be divisible by 2·axes.</param>
    /// <param name="axes">Number of position axes (1, 2 or 3).</param>
    /// <param name="theta">Base θ.</param>
    /// <param name="scaling">Linear and NTK factors.</param>
    /// <param name="device">Where to build the tensor.</param>
    public static Tensor Frequencies(int headDim, int axes = 1, double theta = DefaultTheta, RopeScaling scaling = default, Device? device = null)
    {
        if (axes < 1) throw new ArgumentOutOfRangeException(nameof(axes), axes, "RoPE needs at least one position axis.");
        if (headDim <= 0 || headDim % (2 * axes) != 0)
            throw new ArgumentException($"A {axes}-D rotary table needs a head width divisible by {2 * axes}; got {headDim}.", nameof(headDim));
        var (linear, ntk) = Normalize(scaling);
        using var scope = NewDisposeScope();
        var step = 2 * axes;
        var count = headDim / step;
        var exponents = arange(0, headDim, step, dtype: ScalarType.Float32, device: device)[..count].div_(headDim);
        var bases = full_like(exponents, theta * ntk);
        var freqs = bases.pow_(exponents).reciprocal_();
        if (linear != 1.0) freqs = freqs.div_(linear);
        return freqs.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A table for arbitrary positions: <paramref name="positions"/> is [N, A] (float32 coordinates per axis); the
    /// result is complex64 [N, hd/2].
    /// </summary>
    public static Tensor Table(Tensor positions, int headDim, double theta = DefaultTheta, RopeScaling scaling = default)
    {
        if (positions.dim() != 2)
            throw new ArgumentException($"Positions must be [N, axes]; got [{string.Join(", ", positions.shape)}].", nameof(positions));
        var axes = (int)positions.shape[1];
        using var scope = NewDisposeScope();
        var freqs = Frequencies(headDim, axes, theta, scaling, positions.device);
        var pos = positions.to_type(ScalarType.Float32);
        // [N, 1, A] * [1, F, 1] -> [N, F, A]: per frequency the axes sit next to each other.
        var angles = pos.unsqueeze(1) * freqs.view(1, -1, 1);
        angles = angles.reshape(positions.shape[0], headDim / 2);
        return polar(ones_like(angles), angles).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// 1-D table for positions 0..length−1 divided by <paramref name="positionScale"/> (Flag-DiT's
    /// rope_scaling_factor), with θ multiplied by <paramref name="ntkFactor"/>. Complex64 [length, hd/2].
    /// </summary>
    public static Tensor Table1D(int length, int headDim, double theta = DefaultTheta, double positionScale = 1.0, double ntkFactor = 1.0, Device? device = null)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        if (!(positionScale > 0)) throw new ArgumentOutOfRangeException(nameof(positionScale), positionScale, "rope_scaling_factor must be positive.");
        using var scope = NewDisposeScope();
        var pos = arange(length, dtype: ScalarType.Float32, device: device);
        if (positionScale != 1.0) pos = pos.div_(positionScale);
        return Table(pos.unsqueeze(1), headDim, theta, new RopeScaling(1.0, ntkFactor)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// 2-D table over an <paramref name="rows"/>×<paramref name="cols"/> patch grid, flattened row-major (Next-DiT).
    /// Complex64 [rows·cols, hd/2] with frequencies interleaved [h0, w0, h1, w1, …].
    /// </summary>
    public static Tensor Table2D(int rows, int cols, int headDim, double theta = DefaultTheta, RopeScaling scaling = default, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var r = arange(rows, dtype: ScalarType.Float32, device: device).view(rows, 1).expand(rows, cols);
        var c = arange(cols, dtype: ScalarType.Float32, device: device).view(1, cols).expand(rows, cols);
        var pos = stack([r, c], 2).reshape(rows * cols, 2);
        return Table(pos, headDim, theta, scaling).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// 3-D table over frames×rows×cols, flattened frame-major then row-major, frequencies interleaved
    /// [t0, h0, w0, t1, …]. Complex64 [frames·rows·cols, hd/2]; hd must be divisible by 6.
    /// </summary>
    public static Tensor Table3D(int frames, int rows, int cols, int headDim, double theta = DefaultTheta, RopeScaling scaling = default, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var f = arange(frames, dtype: ScalarType.Float32, device: device).view(frames, 1, 1).expand(frames, rows, cols);
        var r = arange(rows, dtype: ScalarType.Float32, device: device).view(1, rows, 1).expand(frames, rows, cols);
        var c = arange(cols, dtype: ScalarType.Float32, device: device).view(1, 1, cols).expand(frames, rows, cols);
        var pos = stack([f, r, c], 3).reshape(frames * rows * cols, 3);
        return Table(pos, headDim, theta, scaling).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The per-axis tables of a concatenated multi-axis RoPE (Lumina-Image 2.0): axis a of width d_a has its own
    /// frequencies <c>f_k = 1 / θ^(2k/d_a)</c>, k &lt; d_a/2, over positions 0..len_a−1. Angles are computed in float64
    /// and rounded to float32 before the complex64 phasors are formed, as upstream does. Unlike
    /// <see cref="Table"/>, the axes are not interleaved: <see cref="LookupAxes"/> concatenates them axis by axis.
    /// </summary>
    /// <param name="axesDims">Channel width d_a each axis rotates (even; Σ d_a = head width).</param>
    /// <param name="axesLens">Number of positions per axis.</param>
    /// <param name="theta">Base θ.</param>
    /// <param name="device">Where to build the tables.</param>
    /// <returns>One complex64 table [len_a, d_a/2] per axis; the caller owns them.</returns>
    public static Tensor[] AxisTables(IReadOnlyList<int> axesDims, IReadOnlyList<int> axesLens, double theta = DefaultTheta, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(axesDims);
        ArgumentNullException.ThrowIfNull(axesLens);
        if (axesDims.Count == 0 || axesDims.Count != axesLens.Count)
            throw new ArgumentException($"Give one width and one length per RoPE axis; got {axesDims.Count} widths and {axesLens.Count} lengths.", nameof(axesLens));
        var tables = new Tensor[axesDims.Count];
        for (var a = 0; a < axesDims.Count; a++)
        {
            var (d, len) = (axesDims[a], axesLens[a]);
            if (d <= 0 || d % 2 != 0) throw new ArgumentException($"RoPE axis {a} needs a positive even width; got {d}.", nameof(axesDims));
            if (len <= 0) throw new ArgumentException($"RoPE axis {a} needs at least one position; got {len}.", nameof(axesLens));
            using var scope = NewDisposeScope();
            var freqs = arange(0, d, 2, dtype: ScalarType.Float64, device: device).div_(d);
            freqs = full_like(freqs, theta).pow_(freqs).reciprocal_();
            var angles = outer(arange(len, dtype: ScalarType.Float64, device: device), freqs).to_type(ScalarType.Float32);
            tables[a] = polar(ones_like(angles), angles).MoveToOuterDisposeScope();
        }
        return tables;
    }

    /// <summary>
    /// Looks integer positions [..., A] up in the per-axis tables of <see cref="AxisTables"/> and concatenates the
    /// axes: complex64 [..., Σ d_a/2].
    /// </summary>
    /// <exception cref="ArgumentException">The last dimension is not the number of axes, or a position is out of range.</exception>
    public static Tensor LookupAxes(IReadOnlyList<Tensor> axisTables, Tensor positionIds)
    {
        ArgumentNullException.ThrowIfNull(axisTables);
        ArgumentNullException.ThrowIfNull(positionIds);
        if (positionIds.dim() < 1 || positionIds.shape[^1] != axisTables.Count)
            throw new ArgumentException($"Position ids must be [..., {axisTables.Count}] (one id per RoPE axis); got [{string.Join(", ", positionIds.shape)}].", nameof(positionIds));
        using var scope = NewDisposeScope();
        var ids = positionIds.to_type(ScalarType.Int64).reshape(-1, axisTables.Count);
        var parts = new Tensor[axisTables.Count];
        for (var a = 0; a < axisTables.Count; a++)
        {
            var column = ids.select(1, a);
            if (column.numel() > 0 && (column.min().item<long>() < 0 || column.max().item<long>() >= axisTables[a].shape[0]))
                throw new ArgumentException($"RoPE axis {a} has {axisTables[a].shape[0]} positions; a position id lies outside 0..{axisTables[a].shape[0] - 1}.", nameof(positionIds));
            parts[a] = axisTables[a].index_select(0, column.to(axisTables[a].device));
        }
        var shape = positionIds.shape[..^1].Append(-1L).ToArray();
        return cat(parts, 1).reshape(shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Rotates consecutive channel pairs of <paramref name="x"/> [B, N, heads, hd] by the table
    /// <paramref name="freqsCis"/> (complex64 [N, hd/2] or [B, N, hd/2]). Done in float32 and cast back, as upstream.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor freqsCis)
    {
        if (x.dim() != 4)
            throw new ArgumentException($"RoPE input must be [B, N, heads, hd]; got [{string.Join(", ", x.shape)}].", nameof(x));
        var (b, n, h, hd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var okShape = (freqsCis.dim() == 2 && freqsCis.shape[0] == n && freqsCis.shape[1] == hd / 2)
                      || (freqsCis.dim() == 3 && (freqsCis.shape[0] == b || freqsCis.shape[0] == 1) && freqsCis.shape[1] == n && freqsCis.shape[2] == hd / 2);
        if (!okShape || hd % 2 != 0)
            throw new ArgumentException(
                $"The rotary table [{string.Join(", ", freqsCis.shape)}] does not fit tokens [{b}, {n}, {h}, {hd}]; expected [{n}, {hd / 2}] or [B, {n}, {hd / 2}].",
                nameof(freqsCis));
        using var scope = NewDisposeScope();
        var xf = x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32);
        if (xf.stride(-1) != 1) xf = xf.contiguous();
        var xc = view_as_complex(xf.reshape(b, n, h, hd / 2, 2));
        var f = freqsCis.dim() == 2 ? freqsCis.view(1, n, 1, hd / 2) : freqsCis.unsqueeze(2);
        var rotated = view_as_real(xc * f).view(b, n, h, hd);
        if (x.dtype != ScalarType.Float32) rotated = rotated.to_type(x.dtype);
        return rotated.MoveToOuterDisposeScope();
    }

    private static (double Linear, double Ntk) Normalize(RopeScaling scaling)
    {
        // default(RopeScaling) has zero factors; treat them as "no scaling".
        var linear = scaling.LinearFactor == 0 ? 1.0 : scaling.LinearFactor;
        var ntk = scaling.NtkFactor == 0 ? 1.0 : scaling.NtkFactor;
        if (!(linear > 0) || !(ntk > 0) || double.IsInfinity(linear) || double.IsInfinity(ntk))
            throw new ArgumentOutOfRangeException(nameof(scaling), scaling, "RoPE scaling factors must be positive and finite.");
        return (linear, ntk);
    }
}
