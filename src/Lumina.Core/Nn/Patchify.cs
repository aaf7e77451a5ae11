using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// Image ↔ patch-token reshapes of the Lumina DiTs. A patch vector is channel-major <c>(c, ph, pw)</c>; the model's
/// output patch vector is read back as <c>(ph, pw, c)</c>.
/// </summary>
internal static class Patchify
{
    /// <summary>
    /// [B, C, H, W] → [B, H/p, W/p, C·p·p] (<c>view(B,C,H/p,p,W/p,p).permute(0,2,4,1,3,5)</c>).
    /// </summary>
    public static Tensor ToPatches(Tensor x, int patchSize) => Patches(x, patchSize, channelsLast: false);

    /// <summary>
    /// [B, C, H, W] → [B, H/p, W/p, p·p·C] with the patch vector ordered <c>(ph, pw, c)</c> (channels fastest), as
    /// Lumina-Image 2.0 embeds it (<c>view(C,H/p,p,W/p,p).permute(1,3,2,4,0)</c> per image). The inverse is
    /// <see cref="FromPatches"/>.
    /// </summary>
    public static Tensor ToPatchesChannelsLast(Tensor x, int patchSize) => Patches(x, patchSize, channelsLast: true);

    // [B, C, H, W] viewed as (B, C, H/p, p, W/p, p), permuted to (c, ph, pw) or (ph, pw, c) patch vectors.
    private static Tensor Patches(Tensor x, int patchSize, bool channelsLast)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 4)
            throw new ArgumentException($"Latents must be [B, C, H, W]; got [{string.Join(", ", x.shape)}].", nameof(x));
        var (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        CheckDivisible(h, w, patchSize);
        using var scope = NewDisposeScope();
        var p = (long)patchSize;
        var grid = x.reshape(b, c, h / p, p, w / p, p);
        var permuted = channelsLast ? grid.permute(0, 2, 4, 3, 5, 1) : grid.permute(0, 2, 4, 1, 3, 5);
        return permuted.reshape(b, h / p, w / p, c * p * p).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Patch tokens [B, (H/p)·(W/p), p·p·C] (read as (ph, pw, c)) → [B, C, H, W].
    /// </summary>
    public static Tensor FromPatches(Tensor tokens, int patchSize, long height, long width, long channels)
    {
        CheckDivisible(height, width, patchSize);
        var p = (long)patchSize;
        var (gh, gw) = (height / p, width / p);
        if (tokens.dim() != 3 || tokens.shape[1] < gh * gw || tokens.shape[2] != p * p * channels)
            throw new ArgumentException(
                $"Tokens [{string.Join(", ", tokens.shape)}] cannot hold a {channels}×{height}×{width} image with patch {p}; expected [B, ≥{gh * gw}, {p * p * channels}].",
                nameof(tokens));
        using var scope = NewDisposeScope();
        var b = tokens.shape[0];
        var result = tokens.narrow(1, 0, gh * gw).reshape(b, gh, gw, p, p, channels)
            .permute(0, 5, 1, 3, 2, 4).reshape(b, channels, height, width);
        return result.MoveToOuterDisposeScope();
    }

    internal static void CheckDivisible(long h, long w, int patchSize)
    {
        if (patchSize <= 0) throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, "The patch size must be positive.");
        if (h % patchSize != 0 || w % patchSize != 0)
            throw new ArgumentException($"Height and width ({h}×{w}) must be multiples of the patch size {patchSize}.");
    }
}
