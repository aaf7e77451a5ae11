using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

public sealed partial class NextDiT
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Parameter? nextframe_token;
#pragma warning restore IDE1006

    /// <summary>
    /// Tokens of a video of <paramref name="frames"/> frames, each a <paramref name="rows"/>×<paramref name="cols"/> patch
    /// grid: the patches of every frame plus one <c>[nextframe]</c> token between consecutive frames.
    /// </summary>
    public static long VideoSequenceLength(int frames, int rows, int cols) => (long)frames * rows * cols + Math.Max(frames - 1, 0);

    /// <summary>
    /// The (frame, row, col) position of every token of the video layout, float32 [<see cref="VideoSequenceLength"/>, 3]:
    /// patch (r, c) of frame f sits at (f, r, c); the <c>[nextframe]</c> token after frame f sits at (f, rows, 0), one row
    /// past the frame's last row, as Flag-DiT's <c>[nextline]</c> sits one column past its row.
    /// </summary>
    public static Tensor VideoPositions(int frames, int rows, int cols, Device? device = null)
    {
        if (frames < 1 || rows < 1 || cols < 1)
            throw new ArgumentException($"A video needs at least one frame, row and column; got {frames}×{rows}×{cols}.");
        using var scope = NewDisposeScope();
        var f = arange(frames, dtype: ScalarType.Float32, device: device).view(frames, 1, 1).expand(frames, rows, cols);
        var r = arange(rows, dtype: ScalarType.Float32, device: device).view(1, rows, 1).expand(frames, rows, cols);
        var c = arange(cols, dtype: ScalarType.Float32, device: device).view(1, 1, cols).expand(frames, rows, cols);
        var patches = stack([f, r, c], 3).reshape(frames, (long)rows * cols, 3);
        var frameIndex = arange(frames, dtype: ScalarType.Float32, device: device);
        var separators = stack([frameIndex, full_like(frameIndex, rows), zeros_like(frameIndex)], 1).view(frames, 1, 3);
        var all = cat([patches, separators], 1).reshape(frames * ((long)rows * cols + 1), 3);
        return all.narrow(0, 0, VideoSequenceLength(frames, rows, cols)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The 3-D rotary table of the video layout, complex64 [<see cref="VideoSequenceLength"/>, hd/2]: frequencies
    /// interleaved per axis [t0, h0, w0, t1, …] (<see cref="RotaryEmbedding.Table"/> with three axes), the same
    /// RoPE scaling rules as <see cref="RotaryTable"/>.
    /// </summary>
    public Tensor VideoRotaryTable(int frames, int rows, int cols, double t0 = 1.0, NextDiTForwardOptions? options = null)
    {
        using var scope = NewDisposeScope();
        var positions = VideoPositions(frames, rows, cols, pad_token.device);
        return RotaryEmbedding.Table(positions, Config.HeadDim, Config.RopeTheta, RopeScalingFor(t0, options)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Video forward (<see cref="NextDiTConfig.Video"/> models): every frame is patchified like an image, the frames
    /// are joined with the learned <c>nextframe_token</c> between consecutive frames (F·(H/p)·(W/p) + F − 1 tokens),
    /// positions get 3-D RoPE over (frame, row, col) (see <see cref="VideoPositions"/>), and the separators are dropped
    /// from the output. A 1-frame video has no separator: its tokens are exactly the image's, with 3-D RoPE at frame 0.
    /// </summary>
    /// <param name="x">Latents [B, C, F, H, W]; H and W multiples of the patch size.</param>
    /// <param name="t">Timesteps [B] in [0, 1].</param>
    /// <param name="captionFeatures">Text-encoder features [B, L, CaptionDim].</param>
    /// <param name="captionMask">Caption mask [B, L].</param>
    /// <param name="options">RoPE scaling, proportional attention (N = the whole video sequence), output layout, tracing.</param>
    /// <returns>The velocity [B, C, F, H, W].</returns>
    /// <exception cref="InvalidOperationException">The model was built without <see cref="NextDiTConfig.Video"/>.</exception>
    public Tensor ForwardVideo(Tensor x, Tensor t, Tensor captionFeatures, Tensor captionMask, NextDiTForwardOptions? options = null)
    {
        if (nextframe_token is null)
            throw new InvalidOperationException("This Next-DiT has no nextframe_token; build it with NextDiTConfig.Video = true (and load video weights) to run videos.");
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 5 || x.shape[1] != Config.InChannels || x.shape[2] < 1)
            throw new ArgumentException($"Video latents must be [B, {Config.InChannels}, F, H, W] with F ≥ 1; got [{string.Join(", ", x.shape)}].", nameof(x));
        var (b, frames, height, width) = (x.shape[0], x.shape[2], x.shape[3], x.shape[4]);
        Patchify.CheckDivisible(height, width, Config.PatchSize);
        ValidateConditioning(b, t, captionFeatures, captionMask);
        options ??= Default;

        using var scope = NewDisposeScope();
        var asImages = x.permute(0, 2, 1, 3, 4).reshape(b * frames, Config.InChannels, height, width);
        var (patches, rows, cols) = EmbedPatches(asImages, options);
        var perFrame = (long)rows * cols;
        var framed = patches.view(b, frames, perFrame, Config.Dim);
        var separator = nextframe_token.view(1, 1, 1, Config.Dim).expand(b, frames, 1, Config.Dim).to(framed.dtype);
        var length = VideoSequenceLength((int)frames, rows, cols);
        var tokens = cat([framed, separator], 2).reshape(b, frames * (perFrame + 1), Config.Dim).narrow(1, 0, length);
        var freqs = VideoRotaryTable((int)frames, rows, cols, FirstTimestep(t, options), options);

        var hidden = RunTransformer(tokens, null, freqs, t, captionFeatures, captionMask, options);
        // Put a dummy row where the last separator would be, then drop every frame's separator.
        var width2 = hidden.shape[2];
        var padded = cat([hidden, zeros(b, 1, width2, dtype: hidden.dtype, device: hidden.device)], 1);
        var frameTokens = padded.view(b, frames, perFrame + 1, width2).narrow(2, 0, perFrame).reshape(b * frames, perFrame, width2);
        var latents = ToLatents(frameTokens, height, width, options);
        return latents.view(b, frames, latents.shape[1], height, width).permute(0, 2, 1, 3, 4).contiguous().MoveToOuterDisposeScope();
    }
}
