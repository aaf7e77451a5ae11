using Lumina.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The 1-D KL autoencoder over mel spectrograms used by Lumina-T2Music and Lumina-T2Audio (upstream
/// <c>lumina_music/models/autoencoder1d.py</c> <c>AutoencoderKL</c>): (B, mel bins, T) ↔ (B, embed_dim, T / 2).
/// Parameter names are the upstream checkpoint keys (<c>encoder.down.*</c>, <c>decoder.up.*</c>, <c>quant_conv</c>,
/// <c>post_quant_conv</c>), so the upstream state dict, saved as safetensors, loads strictly.
/// </summary>
/// <remarks>The diffusion model's latents are these latents times the music model's own <c>scale_factor</c>
/// (<c>scale_by_std</c>, stored with the DiT); this class works in the VAE's own latent space.</remarks>
public sealed class AutoencoderKL1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly VaeCoder encoder;
    private readonly VaeCoder decoder;
    private readonly Conv1d quant_conv;
    private readonly Conv1d post_quant_conv;
#pragma warning restore IDE1006

    /// <summary>Builds the model with freshly initialised weights (load a checkpoint afterwards).</summary>
    /// <param name="config">The architecture; e.g. <see cref="AutoencoderKL1DConfig.LuminaMusic"/>.</param>
    /// <param name="device">Where the parameters live; null is the CPU, meta allocates nothing.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    /// <exception cref="LuminaException">The config is invalid.</exception>
    public AutoencoderKL1D(AutoencoderKL1DConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(AutoencoderKL1D))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        encoder = VaeCoder.MelEncoder(config, device, dtype);
        decoder = VaeCoder.MelDecoder(config, device, dtype);
        quant_conv = nn.Conv1d(2 * config.ZChannels, 2 * config.EmbedDim, 1, device: device, dtype: dtype);
        post_quant_conv = nn.Conv1d(config.EmbedDim, config.ZChannels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public AutoencoderKL1DConfig Config { get; }

    /// <summary>Reconstructs a mel spectrogram through the mean of its latent distribution.</summary>
    public override Tensor forward(Tensor mel)
    {
        using var scope = NewDisposeScope();
        using var dist = Encode(mel);
        return Decode(dist.Mean).MoveToOuterDisposeScope();
    }

    /// <summary>Encodes mel spectrograms to their latent distribution. Runs without autograd.</summary>
    /// <param name="mel">(B, in_channels, T) floating point; T divisible by <see cref="AutoencoderKL1DConfig.DownscaleFactor"/>
    /// gives exactly T / factor latent frames.</param>
    /// <exception cref="ArgumentException">The shape or dtype is wrong.</exception>
    internal DiagonalGaussianDistribution Encode(Tensor mel)
    {
        ModelInput.RequireChannelsFirst(mel, nameof(mel), "Mel spectrograms", "T", Config.InChannels);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var moments = quant_conv.forward(encoder.forward(mel));
        return new DiagonalGaussianDistribution(moments).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes latents (B, embed_dim, t) to mel spectrograms (B, out_ch, t · factor). Runs without autograd.</summary>
    /// <exception cref="ArgumentException">The shape or dtype is wrong.</exception>
    public Tensor Decode(Tensor z)
    {
        ModelInput.RequireChannelsFirst(z, nameof(z), "Latents", "t", Config.EmbedDim);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return decoder.forward(post_quant_conv.forward(z)).MoveToOuterDisposeScope();
    }
}
