using Lumina.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Vocoders;

/// <summary>
/// The BigVGAN generator that turns mel spectrograms into waveforms in Lumina-T2Music / T2Audio (upstream
/// <c>lumina_music/models/vocoder/bigvgan/models.py</c>): <c>conv_pre</c>, per upsampling stage a transposed convolution
/// <c>ups.i.0</c> and the average of parallel AMP residual blocks <c>resblocks.*</c>, then an anti-aliased
/// <c>activation_post</c>, <c>conv_post</c> and tanh. Module keys are the upstream ones with weight normalisation
/// removed (<c>X.weight</c>); <see cref="LoadCheckpoint"/> folds upstream <c>weight_g</c>/<c>weight_v</c> pairs.
/// </summary>
public sealed class BigVGAN : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly Conv1d conv_pre;
    private readonly ModuleList<ModuleList<ConvTranspose1d>> ups;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> resblocks;
    private readonly Activation1d activation_post;
    private readonly Conv1d conv_post;
#pragma warning restore IDE1006
    private readonly int _kernels;

    /// <summary>Builds the generator with freshly initialised weights (load a checkpoint afterwards).</summary>
    /// <param name="config">The hyper-parameters (the upstream <c>h</c>).</param>
    /// <param name="device">Where the parameters live; null is the CPU, meta allocates nothing.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    /// <exception cref="LuminaException">The config is inconsistent.</exception>
    public BigVGAN(BigVGANConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(BigVGAN))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _kernels = config.ResBlockKernelSizes.Count;
        conv_pre = nn.Conv1d(config.NumMels, config.UpsampleInitialChannel, 7, padding: 3, device: device, dtype: dtype);
        ups = nn.ModuleList<ModuleList<ConvTranspose1d>>();
        resblocks = nn.ModuleList<nn.Module<Tensor, Tensor>>();
        var ch = config.UpsampleInitialChannel;
        for (var i = 0; i < config.UpsampleRates.Count; i++)
        {
            int u = config.UpsampleRates[i], k = config.UpsampleKernelSizes[i];
            ups.Add(nn.ModuleList(nn.ConvTranspose1d(ch, ch / 2, k, stride: u, padding: (k - u) / 2, device: device, dtype: dtype)));
            ch /= 2;
            for (var j = 0; j < _kernels; j++)
            {
                var kernel = config.ResBlockKernelSizes[j];
                var dilations = config.ResBlockDilationSizes[j];
                resblocks.Add(new AMPBlock(config, ch, kernel, dilations, device, dtype));
            }
        }
        activation_post = Activation1d.For(config, ch, device, dtype);
        conv_post = nn.Conv1d(ch, 1, 7, padding: 3, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public BigVGANConfig Config { get; }

    /// <summary>
    /// Loads an upstream generator state dict saved as safetensors (weight-norm <c>weight_g</c>/<c>weight_v</c> pairs
    /// are folded into plain weights; checkpoints already without weight norm load as they are). Strict by default.
    /// </summary>
    /// <param name="path">A .safetensors file, an index, or a folder holding one.</param>
    /// <param name="options">Strictness and key mapping.</param>
    /// <exception cref="CheckpointMismatchException">Keys or shapes do not match this config.</exception>
    public CheckpointLoadReport LoadCheckpoint(string path, CheckpointLoadOptions? options = null)
    {
        using var source = WeightNormFoldingSource.Open(path);
        return this.LoadTensors(source, options);
    }

    /// <summary>Mel spectrogram (B, num_mels, frames) → waveform (B, 1, frames · hop) in [−1, 1].</summary>
    public override Tensor forward(Tensor mel)
    {
        using var scope = NewDisposeScope();
        var x = conv_pre.forward(mel);
        for (var i = 0; i < ups.Count; i++)
        {
            x = ups[i][0].forward(x);
            Tensor? sum = null;
            for (var j = 0; j < _kernels; j++)
            {
                var r = resblocks[i * _kernels + j].forward(x);
                sum = sum is null ? r : sum.add_(r);
            }
            x = sum!.div_(_kernels);
        }
        x = activation_post.forward(x);
        x = conv_post.forward(x);
        return x.tanh_().MoveToOuterDisposeScope();
    }

    /// <summary>Turns mel spectrograms into waveforms, without autograd.</summary>
    /// <param name="mel">(B, num_mels, frames) or (num_mels, frames), floating point.</param>
    /// <returns>(B, 1, frames · <see cref="BigVGANConfig.HopLength"/>) samples in [−1, 1].</returns>
    /// <exception cref="ArgumentException">The shape or dtype is wrong.</exception>
    public Tensor Vocode(Tensor mel)
    {
        ArgumentNullException.ThrowIfNull(mel);
        var batched = mel.dim() == 2 ? mel.unsqueeze(0) : mel.alias();
        using (batched)
        {
            if (batched.dim() != 3 || batched.shape[1] != Config.NumMels || batched.shape[2] == 0)
                throw new ArgumentException($"Expected a mel spectrogram shaped (B, {Config.NumMels}, frames); got [{string.Join(", ", mel.shape)}].", nameof(mel));
            if (!batched.is_floating_point()) throw new ArgumentException($"Mel spectrograms must be floating point; got {mel.dtype}.", nameof(mel));
            using var noGrad = no_grad();
            return forward(batched);
        }
    }
}
