using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// Sinusoidal timestep embedding followed by <c>mlp = Sequential(Linear(256→hidden), SiLU, Linear(hidden→hidden))</c>.
/// Checkpoint keys <c>mlp.0.*</c> and <c>mlp.2.*</c>. The sinusoid takes t as given (Lumina image models pass t in [0, 1],
/// the music DiT passes integer steps 0..999).
/// </summary>
internal sealed class TimestepEmbedder : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Sequential mlp;
#pragma warning restore IDE1006

    /// <summary>Creates the embedder.</summary>
    /// <param name="hiddenSize">Output width (min(dim, 1024) in the image DiTs).</param>
    /// <param name="frequencyEmbeddingSize">Width of the sinusoid (256 upstream).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public TimestepEmbedder(long hiddenSize, int frequencyEmbeddingSize = 256, Device? device = null, ScalarType? dtype = null)
        : base(nameof(TimestepEmbedder))
    {
        if (frequencyEmbeddingSize <= 0) throw new ArgumentOutOfRangeException(nameof(frequencyEmbeddingSize));
        FrequencyEmbeddingSize = frequencyEmbeddingSize;
        mlp = nn.Sequential(
            ("0", ModuleFactory.Linear(frequencyEmbeddingSize, hiddenSize, true, device, dtype)),
            ("1", nn.SiLU()),
            ("2", ModuleFactory.Linear(hiddenSize, hiddenSize, true, device, dtype)));
        RegisterComponents();
    }

    /// <summary>Width of the sinusoidal embedding.</summary>
    public int FrequencyEmbeddingSize { get; }

    /// <summary>
    /// The sinusoid: <c>freqs_k = exp(−ln(maxPeriod)·k/half)</c>, <c>args = t·freqs</c>, output <c>[cos(args), sin(args)]</c>
    /// (zero-padded by one column when <paramref name="dim"/> is odd). Computed in float32.
    /// </summary>
    /// <param name="t">Timesteps, shape [N].</param>
    /// <param name="dim">Embedding width.</param>
    /// <param name="maxPeriod">Lowest frequency's period (10000).</param>
    public static Tensor TimestepEmbedding(Tensor t, int dim, double maxPeriod = 10000)
    {
        if (t.dim() != 1) throw new ArgumentException($"Timesteps must be a 1-D tensor [N]; got shape [{string.Join(", ", t.shape)}].", nameof(t));
        using var scope = NewDisposeScope();
        var half = dim / 2;
        var freqs = arange(0, half, dtype: ScalarType.Float32, device: t.device).mul_(-Math.Log(maxPeriod)).div_(half).exp_();
        var args = t.to_type(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        var emb = cat([args.cos(), args.sin()], 1);
        if (dim % 2 == 1) emb = cat([emb, zeros_like(emb[.., ..1])], 1);
        return emb.MoveToOuterDisposeScope();
    }

    /// <summary>Embeds timesteps [N] into [N, hidden].</summary>
    public override Tensor forward(Tensor t)
    {
        using var scope = NewDisposeScope();
        var freq = TimestepEmbedding(t, FrequencyEmbeddingSize).to_type(mlp.parameters().First().dtype);
        return mlp.forward(freq).MoveToOuterDisposeScope();
    }
}
