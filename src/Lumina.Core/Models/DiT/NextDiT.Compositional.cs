using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

public sealed partial class NextDiT
{
    /// <summary>
    /// Compositional forward (upstream Lumina-Next compositional generation): the patch grid is cut into
    /// <see cref="RegionalCaptions.Rows"/>×<see cref="RegionalCaptions.Cols"/> equal regions; each image token
    /// cross-attends only to the caption of its region, and adaLN is conditioned on the pooled global caption.
    /// Self-attention still spans the whole image, so regions blend at their borders.
    /// <para>With every region caption equal to the global caption this is <see cref="Forward(Tensor, Tensor, Tensor, Tensor, NextDiTForwardOptions?)"/>.
    /// Upstream numbers its regions <c>(h + 1)·(w + 1) − 1</c>, which is row-major only for 1×N and N×1 grids (on 2×2 it
    /// gives regions 0, 1, 1, 3 and drops caption 2); here regions are row-major on every grid.</para>
    /// </summary>
    /// <param name="x">Latents [B, C, H, W]; H/p must be a multiple of Rows and W/p of Cols, so each region holds whole patches.</param>
    /// <param name="t">Timesteps [B] in [0, 1].</param>
    /// <param name="captions">Region and global captions for the B latents.</param>
    /// <param name="options">RoPE scaling, proportional attention, output layout and tracing.</param>
    /// <returns>The velocity [B, C, H, W].</returns>
    public Tensor ForwardCompositional(Tensor x, Tensor t, RegionalCaptions captions, NextDiTForwardOptions? options = null)
    {
        ValidateLatents(x);
        ArgumentNullException.ThrowIfNull(captions);
        ValidateConditioning(x.shape[0], t, captions.GlobalFeatures, captions.GlobalMask);
        captions.Validate(x.shape[0], Config.CaptionDim);
        var p = Config.PatchSize;
        var (rows, cols) = (x.shape[2] / p, x.shape[3] / p);
        if (rows % captions.Rows != 0 || cols % captions.Cols != 0)
            throw new ArgumentException(
                $"A {captions.Rows}×{captions.Cols} region grid does not cut the {rows}×{cols} patch grid of [{string.Join(", ", x.shape)}] into whole patches; " +
                $"H/{p} must be a multiple of Rows and W/{p} a multiple of Cols.", nameof(captions));
        options ??= Default;

        using var scope = NewDisposeScope();
        var (tokens, r, c) = EmbedPatches(x, options);
        var freqs = RotaryTable(r, c, FirstTimestep(t, options), options);
        var (features, mask) = RegionCrossAttention(captions, r, c, tokens.device);
        var hidden = RunTransformer(tokens, null, freqs, t, features, mask, captions.GlobalFeatures, captions.GlobalMask, options);
        return ToLatents(hidden, x.shape[2], x.shape[3], options).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The region of each patch token of a <paramref name="rows"/>×<paramref name="cols"/> patch grid (row-major) cut into
    /// <paramref name="regionRows"/>×<paramref name="regionCols"/> equal regions: int64 [rows·cols] of region ids
    /// <c>(i / (rows/regionRows))·regionCols + j / (cols/regionCols)</c>.
    /// </summary>
    public static Tensor RegionOfTokens(long rows, long cols, int regionRows, int regionCols, Device? device = null)
    {
        if (regionRows < 1 || rows % regionRows != 0) throw new ArgumentException($"{rows} patch rows do not split into {regionRows} equal regions.", nameof(regionRows));
        if (regionCols < 1 || cols % regionCols != 0) throw new ArgumentException($"{cols} patch columns do not split into {regionCols} equal regions.", nameof(regionCols));
        using var scope = NewDisposeScope();
        var i = arange(rows, dtype: ScalarType.Int64, device: device).div(rows / regionRows, rounding_mode: RoundingMode.floor).view(rows, 1);
        var j = arange(cols, dtype: ScalarType.Int64, device: device).div(cols / regionCols, rounding_mode: RoundingMode.floor).view(1, cols);
        return (i * regionCols + j).reshape(rows * cols).MoveToOuterDisposeScope();
    }

    // The region captions side by side along L ([B, R·L, C]) and a per-token mask [B, N, R·L] that lets token n see only
    // the (unpadded) tokens of its region's caption: the same softmax as attending to that caption alone.
    private static (Tensor Features, Tensor Mask) RegionCrossAttention(RegionalCaptions captions, long rows, long cols, Device device)
    {
        var (b, r, l) = (captions.RegionFeatures.shape[0], captions.RegionCount, captions.RegionFeatures.shape[2]);
        var features = captions.RegionFeatures.reshape(b, r * l, captions.RegionFeatures.shape[3]);
        var tokenRegion = RegionOfTokens(rows, cols, captions.Rows, captions.Cols, device);
        var keyRegion = arange(r, dtype: ScalarType.Int64, device: device).repeat_interleave(l);
        var allowed = tokenRegion.view(-1, 1).eq(keyRegion.view(1, -1)).unsqueeze(0);
        var valid = DiTInputs.BoolMask(captions.RegionMask.to(device)).reshape(b, 1, r * l);
        return (features, allowed.logical_and(valid));
    }
}
