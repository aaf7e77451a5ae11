using Lumina.Checkpoints;
using Lumina.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The 2-D KL autoencoder of Stable Diffusion / SDXL and FLUX (diffusers <c>AutoencoderKL</c>), which Lumina-T2I and
/// Lumina-Next (the SDXL VAE) and Lumina-Image 2.0 (the FLUX VAE: 16 latent channels, no quant convs, a latent shift)
/// use to move between images and latents. Parameter names are the diffusers checkpoint keys
/// (<c>encoder.*</c>, <c>decoder.*</c>, <c>quant_conv</c>, <c>post_quant_conv</c>), so a diffusers
/// <c>vae/diffusion_pytorch_model.safetensors</c> loads strictly.
/// </summary>
/// <remarks>
/// <para><see cref="Encode"/> and <see cref="Decode"/> work in the VAE's own latent space and run without autograd.
/// Diffusion models see <em>scaled</em> latents: use <see cref="EncodeToLatents"/>/<see cref="DecodeLatents"/>, or
/// <see cref="ScaleLatents"/>/<see cref="UnscaleLatents"/> (<c>(z − shift) · scale</c>).</para>
/// <para>Large images are tiled (see <see cref="VaeTilingOptions"/>) so memory depends on the tile, not the image.</para>
/// </remarks>
public sealed class AutoencoderKL : nn.Module<Tensor, Tensor>, IImageLatentSpace
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly VaeCoder encoder;
    private readonly VaeCoder decoder;
    private readonly Conv2d? quant_conv;
    private readonly Conv2d? post_quant_conv;
#pragma warning restore IDE1006

    /// <summary>Builds the model with freshly initialised weights (load a checkpoint afterwards).</summary>
    /// <param name="config">The architecture; e.g. <see cref="AutoencoderKLConfig.SdxlVae"/>.</param>
    /// <param name="device">Where the parameters live; null is the CPU, <c>new Device("meta")</c> allocates nothing.</param>
    /// <param name="dtype">Parameter element type; null keeps float32 (recommended on the CPU).</param>
    /// <exception cref="LuminaException">The config is invalid.</exception>
    public AutoencoderKL(AutoencoderKLConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(AutoencoderKL))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        encoder = VaeCoder.ImageEncoder(config, device, dtype);
        decoder = VaeCoder.ImageDecoder(config, device, dtype);
        if (config.UseQuantConv)
            quant_conv = nn.Conv2d(2 * config.LatentChannels, 2 * config.LatentChannels, 1, device: device, dtype: dtype);
        if (config.UsePostQuantConv)
            post_quant_conv = nn.Conv2d(config.LatentChannels, config.LatentChannels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>
    /// Loads a diffusers VAE folder (the <c>vae/</c> folder of a pipeline repo): <c>config.json</c> plus
    /// <c>diffusion_pytorch_model.safetensors</c> (or a sharded <c>*.safetensors.index.json</c>), strictly.
    /// </summary>
    /// <param name="folder">The folder holding config.json and the weights.</param>
    /// <param name="device">Where the parameters live; null is the CPU.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not match the config.</exception>
    public static AutoencoderKL FromDirectory(string folder, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var config = AutoencoderKLConfig.FromFile(Path.Combine(folder, "config.json"));
        var weights = new[] { "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json" }
            .Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"No diffusion_pytorch_model.safetensors (or its .index.json) in '{folder}'. Download the VAE's safetensors weights; .bin pickles are not read.");
        using var source = SafetensorsCheckpoint.Open(weights);
        return Load(config, source, device, dtype);
    }

    /// <summary>
    /// Loads a VAE from one safetensors file (or a shard index) in either key layout, strictly: the diffusers layout,
    /// the original LDM / FLUX layout (FLUX's and ComfyUI's <c>ae.safetensors</c>, mid-block attention as 1×1
    /// convolutions), or a single-file checkpoint that holds the VAE behind <c>first_stage_model.</c> (its other
    /// tensors are ignored). The file carries no config, so pass one, e.g. <see cref="AutoencoderKLConfig.FluxVae"/>.
    /// </summary>
    /// <param name="path">The safetensors file.</param>
    /// <param name="config">The architecture and latent scaling of the VAE in the file.</param>
    /// <param name="device">Where the parameters live; null is the CPU.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointMismatchException">The tensors do not match the config.</exception>
    public static AutoencoderKL FromSingleFile(string path, AutoencoderKLConfig config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(config);
        if (!File.Exists(path)) throw new FileNotFoundException($"No VAE checkpoint at '{path}'. Pass the path of a .safetensors file (for Lumina-Image 2.0, ComfyUI's ae.safetensors).", path);
        config.Validate(path);
        using var source = VaeCheckpointSource.Open(path, config.BlockOutChannels.Count, vaeOnly: true);
        return Load(config, source, device, dtype);
    }

    /// <summary>Builds the model and loads <paramref name="source"/> strictly; the model is disposed if that fails.</summary>
    private static AutoencoderKL Load(AutoencoderKLConfig config, ITensorSource source, Device? device, ScalarType? dtype)
    {
        var vae = new AutoencoderKL(config, device, dtype);
        try
        {
            vae.LoadTensors(source);
        }
        catch
        {
            vae.Dispose();
            throw;
        }
        vae.eval();
        return vae;
    }

    /// <summary>The architecture and latent scaling.</summary>
    public AutoencoderKLConfig Config { get; }

    /// <summary>Pixels per latent cell along each axis (8 for SD/SDXL).</summary>
    public int DownscaleFactor => Config.DownscaleFactor;

    /// <inheritdoc />
    int IImageLatentSpace.LatentChannels => Config.LatentChannels;

    /// <summary>Element type of the weights (the encoder and decoder compute in it).</summary>
    public ScalarType DType => parameters().First().dtype;

    /// <summary>Device of the weights.</summary>
    public Device Device => parameters().First().device;

    /// <inheritdoc />
    Tensor IImageLatentSpace.EncodeToLatents(Tensor image, Generator? generator, CancellationToken cancellationToken)
        => EncodeToLatents(image, generator, null, cancellationToken);

    /// <inheritdoc />
    Tensor IImageLatentSpace.DecodeLatents(Tensor latents, CancellationToken cancellationToken)
        => DecodeLatents(latents, null, null, cancellationToken);

    /// <summary>Reconstructs an image through the mean of its latent distribution (encode, mode, decode), untiled.</summary>
    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        using var dist = Encode(image, VaeTilingOptions.Disabled);
        return Decode(dist.Mean, VaeTilingOptions.Disabled).MoveToOuterDisposeScope();
    }

    /// <summary>Encodes images in [−1, 1] to their latent distribution (unscaled VAE latent space).</summary>
    /// <param name="image">(B, in_channels, H, W) floating point, values in [−1, 1].</param>
    /// <param name="tiling">Tiling; null means <see cref="VaeTilingOptions.Default"/> (automatic above 1024² pixels).
    /// Tiled encoding needs H and W divisible by <see cref="DownscaleFactor"/>.</param>
    /// <param name="progress">Receives a report after each tile.</param>
    /// <param name="cancellationToken">Checked between tiles.</param>
    /// <exception cref="ArgumentException">The image shape or dtype is wrong.</exception>
    internal DiagonalGaussianDistribution Encode(Tensor image, VaeTilingOptions? tiling = null, IProgress<(int Completed, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        ModelInput.RequireChannelsFirst(image, nameof(image), "Images", "H, W", Config.InChannels, " Convert to [-1, 1] with (x / 127.5 - 1).");
        tiling ??= VaeTilingOptions.Default;
        tiling.Validate();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int h = (int)image.shape[2], w = (int)image.shape[3], f = DownscaleFactor;
        var tileLatent = TileLatentSize(tiling);
        Tensor moments;
        if (ShouldTile(tiling, h, w, tileLatent * f))
        {
            if (h % f != 0 || w % f != 0)
                throw new ArgumentException($"Tiled encoding needs H and W divisible by {f}; got {h}×{w}. Resize or crop the image, or pass VaeTilingOptions.Disabled.", nameof(image));
            moments = TiledEncode(image, tileLatent, tiling, progress, cancellationToken);
        }
        else
        {
            cancellationToken.ThrowIfCancellationRequested();
            moments = EncodeMoments(image);
            progress?.Report((1, 1));
        }
        return new DiagonalGaussianDistribution(moments).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes unscaled VAE latents to images (about [−1, 1]; not clamped).</summary>
    /// <param name="z">(B, latent_channels, h, w) floating point.</param>
    /// <param name="tiling">Tiling; null means <see cref="VaeTilingOptions.Default"/> (automatic above 1024² pixels).</param>
    /// <param name="progress">Receives a report after each tile.</param>
    /// <param name="cancellationToken">Checked between tiles.</param>
    /// <exception cref="ArgumentException">The latent shape or dtype is wrong.</exception>
    public Tensor Decode(Tensor z, VaeTilingOptions? tiling = null, IProgress<(int Completed, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        ModelInput.RequireChannelsFirst(z, nameof(z), "Latents", "h, w", Config.LatentChannels);
        tiling ??= VaeTilingOptions.Default;
        tiling.Validate();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int f = DownscaleFactor, tileLatent = TileLatentSize(tiling);
        if (ShouldTile(tiling, (int)z.shape[2] * f, (int)z.shape[3] * f, tileLatent * f))
            return TiledDecode(z, tileLatent, tiling, progress, cancellationToken).MoveToOuterDisposeScope();
        cancellationToken.ThrowIfCancellationRequested();
        var result = DecodeWhole(z);
        progress?.Report((1, 1));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>VAE latents → diffusion latents: <c>(z − shift) · scale</c>.</summary>
    public Tensor ScaleLatents(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        using var scope = NewDisposeScope();
        var shifted = Config.ShiftFactor is { } s ? z.sub(s) : z;
        return shifted.mul(Config.ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <summary>Diffusion latents → VAE latents: <c>latents / scale + shift</c>.</summary>
    public Tensor UnscaleLatents(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        using var scope = NewDisposeScope();
        var z = latents.div(Config.ScalingFactor);
        if (Config.ShiftFactor is { } s) z = z.add(s);
        return z.MoveToOuterDisposeScope();
    }

    /// <summary>Images in [−1, 1] → scaled diffusion latents, sampling the latent distribution (img2img).</summary>
    /// <param name="image">(B, in_channels, H, W) in [−1, 1].</param>
    /// <param name="generator">Seeded generator for the sample; null uses the global one.</param>
    /// <param name="tiling">Tiling; null is automatic.</param>
    /// <param name="cancellationToken">Checked between tiles.</param>
    public Tensor EncodeToLatents(Tensor image, Generator? generator = null, VaeTilingOptions? tiling = null, CancellationToken cancellationToken = default)
    {
        using var scope = NewDisposeScope();
        using var dist = Encode(image, tiling, null, cancellationToken);
        using var sample = dist.Sample(generator);
        return ScaleLatents(sample).MoveToOuterDisposeScope();
    }

    /// <summary>Scaled diffusion latents → images in about [−1, 1] (not clamped).</summary>
    /// <param name="latents">(B, latent_channels, h, w) as a diffusion model produced them.</param>
    /// <param name="tiling">Tiling; null is automatic.</param>
    /// <param name="progress">Receives a report after each tile.</param>
    /// <param name="cancellationToken">Checked between tiles.</param>
    public Tensor DecodeLatents(Tensor latents, VaeTilingOptions? tiling = null, IProgress<(int Completed, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        using var scope = NewDisposeScope();
        using var z = UnscaleLatents(latents);
        return Decode(z, tiling, progress, cancellationToken).MoveToOuterDisposeScope();
    }

    private int TileLatentSize(VaeTilingOptions tiling)
    {
        var pixels = tiling.TileSize ?? Config.SampleSize;
        return Math.Max(1, pixels / DownscaleFactor);
    }

    private static bool ShouldTile(VaeTilingOptions tiling, int heightPx, int widthPx, int tilePx) => tiling.Enabled switch
    {
        false => false,
        true => true,
        null => (long)heightPx * widthPx > tiling.AutoThresholdPixels && (heightPx > tilePx || widthPx > tilePx),
    };

    private Tensor EncodeMoments(Tensor image)
    {
        var h = encoder.forward(image);
        if (quant_conv is null) return h;
        using (h) return quant_conv.forward(h);
    }

    private Tensor DecodeWhole(Tensor z)
    {
        if (post_quant_conv is null) return decoder.forward(z);
        using var projected = post_quant_conv.forward(z);
        return decoder.forward(projected);
    }

    private Tensor TiledDecode(Tensor z, int tileLatent, VaeTilingOptions tiling, IProgress<(int Completed, int Total)>? progress, CancellationToken ct)
    {
        int f = DownscaleFactor, overlap = Math.Max(1, (int)(tileLatent * tiling.OverlapFraction));
        var rows = TileAxis.Plan((int)z.shape[2], tileLatent, overlap);
        var cols = TileAxis.Plan((int)z.shape[3], tileLatent, overlap);
        var rowWeights = rows.Weights(f);
        var colWeights = cols.Weights(f);
        var passes = tiling.WholeImageStatistics ? 2 : 1;
        int done = 0, total = rows.Count * cols.Count * passes;
        using var scope = NewDisposeScope();
        var latent = post_quant_conv is null ? z : post_quant_conv.forward(z);
        // Whole-image mode: the cheap latent-resolution part (with the global attention) runs once, untiled.
        var features = tiling.WholeImageStatistics ? decoder.ForwardHead(latent) : latent;
        Func<Tensor, Tensor> run = tiling.WholeImageStatistics ? decoder.ForwardTail : decoder.forward;
        using var statistics = tiling.WholeImageStatistics ? new TileStatistics() : null;
        if (statistics is not null)
        {
            ForEachTile(rows, cols, features, 1, statistics, ct, (tile, _, _) =>
            {
                run(tile).Dispose();
                progress?.Report((++done, total));
            });
            statistics.Finish();
        }
        Tensor? output = null;
        ForEachTile(rows, cols, features, 1, statistics, ct, (tile, i, j) =>
        {
            using var decoded = run(tile);
            output ??= zeros(z.shape[0], decoded.shape[1], z.shape[2] * f, z.shape[3] * f, dtype: decoded.dtype, device: decoded.device)
                .MoveToOuterDisposeScope();
            Blend(output, decoded, rowWeights[i], colWeights[j], rows.Starts[i] * f, cols.Starts[j] * f);
            progress?.Report((++done, total));
        });
        return output!.MoveToOuterDisposeScope();
    }

    private Tensor TiledEncode(Tensor image, int tileLatent, VaeTilingOptions tiling, IProgress<(int Completed, int Total)>? progress, CancellationToken ct)
    {
        int f = DownscaleFactor, overlap = Math.Max(1, (int)(tileLatent * tiling.OverlapFraction));
        var rows = TileAxis.Plan((int)image.shape[2] / f, tileLatent, overlap);
        var cols = TileAxis.Plan((int)image.shape[3] / f, tileLatent, overlap);
        var rowWeights = rows.Weights(1);
        var colWeights = cols.Weights(1);
        var passes = tiling.WholeImageStatistics ? 2 : 1;
        int done = 0, total = rows.Count * cols.Count * passes;
        using var scope = NewDisposeScope();
        // Whole-image mode: tiles run the full-resolution down path; their features are blended and the
        // latent-resolution rest (mid block with the global attention, output conv) runs once on the whole.
        Func<Tensor, Tensor> run = tiling.WholeImageStatistics ? encoder.ForwardHead : EncodeMoments;
        using var statistics = tiling.WholeImageStatistics ? new TileStatistics() : null;
        if (statistics is not null)
        {
            ForEachTile(rows, cols, image, f, statistics, ct, (tile, _, _) =>
            {
                run(tile).Dispose();
                progress?.Report((++done, total));
            });
            statistics.Finish();
        }
        Tensor? blended = null;
        ForEachTile(rows, cols, image, f, statistics, ct, (tile, i, j) =>
        {
            using var encoded = run(tile);
            blended ??= zeros(image.shape[0], encoded.shape[1], rows.Length, cols.Length, dtype: encoded.dtype, device: encoded.device)
                .MoveToOuterDisposeScope();
            Blend(blended, encoded, rowWeights[i], colWeights[j], rows.Starts[i], cols.Starts[j]);
            progress?.Report((++done, total));
        });
        if (!tiling.WholeImageStatistics) return blended!.MoveToOuterDisposeScope();
        var h = encoder.ForwardTail(blended!);
        blended!.Dispose();
        if (quant_conv is null) return h.MoveToOuterDisposeScope();
        return quant_conv.forward(h).MoveToOuterDisposeScope();
    }

    /// <summary>Calls <paramref name="body"/> with each tile and its row and column of <paramref name="source"/> (tile grid in latent cells,
    /// <paramref name="scale"/> source positions per cell), inside its own dispose scope, with the tile's owned region
    /// registered in <paramref name="statistics"/> when given.</summary>
    private void ForEachTile(TileAxis rows, TileAxis cols, Tensor source, int scale, TileStatistics? statistics, CancellationToken ct, Action<Tensor, int, int> body)
    {
        for (var i = 0; i < rows.Count; i++)
        for (var j = 0; j < cols.Count; j++)
        {
            ct.ThrowIfCancellationRequested();
            using var tileScope = NewDisposeScope();
            var tile = source[TensorIndex.Colon, TensorIndex.Colon,
                TensorIndex.Slice(rows.Starts[i] * scale, rows.End(i) * scale), TensorIndex.Slice(cols.Starts[j] * scale, cols.End(j) * scale)];
            var (y0, y1) = rows.Core(i);
            var (x0, x1) = cols.Core(j);
            using var active = statistics?.Enter(y0, y1, x0, x1, rows.End(i) - rows.Starts[i]);
            body(tile, i, j);
        }
    }

    /// <summary>Adds <paramref name="tile"/> weighted by the outer product of its row and column weights into <paramref name="output"/> at (y0, x0).</summary>
    private static void Blend(Tensor output, Tensor tile, double[] rowWeights, double[] colWeights, long y0, long x0)
    {
        using var scope = NewDisposeScope();
        var wy = tensor(rowWeights).to(tile.dtype, tile.device).view(1, 1, -1, 1);
        var wx = tensor(colWeights).to(tile.dtype, tile.device).view(1, 1, 1, -1);
        var target = output[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(y0, y0 + tile.shape[2]), TensorIndex.Slice(x0, x0 + tile.shape[3])];
        target.add_(tile.mul(wy).mul_(wx));
    }
}
