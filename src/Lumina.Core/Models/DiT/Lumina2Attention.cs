using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// The joint self-attention of Lumina-Image 2.0 (upstream <c>JointAttention</c>): one fused projection <c>qkv</c>
/// (rows [H·hd | KV·hd | KV·hd], no bias), RMSNorms <c>q_norm</c>/<c>k_norm</c> over the head width, RoPE on queries
/// and keys, grouped-query attention with a key mask and scale 1/sqrt(hd), then <c>out</c> (no bias).
/// </summary>
internal sealed class Lumina2Attention : nn.Module
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Linear qkv;
    private readonly Linear @out;
    private readonly RmsNorm? q_norm;
    private readonly RmsNorm? k_norm;
#pragma warning restore IDE1006

    /// <summary>Creates the attention from the model configuration.</summary>
    public Lumina2Attention(Lumina2Config config, Device? device = null, ScalarType? dtype = null) : base(nameof(Lumina2Attention))
    {
        ArgumentNullException.ThrowIfNull(config);
        Heads = config.Heads;
        KvHeads = config.KvHeadCount;
        HeadDim = config.HeadDim;
        qkv = ModuleFactory.Linear(config.Dim, (long)(Heads + 2 * KvHeads) * HeadDim, false, device, dtype);
        @out = ModuleFactory.Linear((long)Heads * HeadDim, config.Dim, false, device, dtype);
        if (config.QkNorm)
        {
            q_norm = new RmsNorm(HeadDim, config.QkNormEps, device, dtype);
            k_norm = new RmsNorm(HeadDim, config.QkNormEps, device, dtype);
        }
        RegisterComponents();
    }

    /// <summary>Number of query heads.</summary>
    public int Heads { get; }

    /// <summary>Number of key/value heads.</summary>
    public int KvHeads { get; }

    /// <summary>Width of one head.</summary>
    public int HeadDim { get; }

    /// <summary>Runs the attention.</summary>
    /// <param name="x">Tokens [B, N, dim].</param>
    /// <param name="keyMask">Key mask [B, N] (true = attend), or null when every token is real.</param>
    /// <param name="freqsCis">Rotary table, complex64 [B, N, hd/2] (or [N, hd/2]).</param>
    public Tensor Forward(Tensor x, Tensor? keyMask, Tensor freqsCis)
    {
        var dim = qkv.weight!.shape[1];
        if (x.dim() != 3 || x.shape[2] != dim)
            throw new ArgumentException($"Attention input must be [B, N, {dim}]; got [{string.Join(", ", x.shape)}].", nameof(x));
        using var scope = NewDisposeScope();
        var (b, n) = (x.shape[0], x.shape[1]);
        var qWidth = (long)Heads * HeadDim;
        var kvWidth = (long)KvHeads * HeadDim;
        var projected = qkv.forward(x);
        var q = projected.narrow(-1, 0, qWidth).reshape(b, n, Heads, HeadDim);
        var k = projected.narrow(-1, qWidth, kvWidth).reshape(b, n, KvHeads, HeadDim);
        var v = projected.narrow(-1, qWidth + kvWidth, kvWidth).reshape(b, n, KvHeads, HeadDim);
        if (q_norm is not null) q = q_norm.forward(q);
        if (k_norm is not null) k = k_norm.forward(k);
        q = RotaryEmbedding.Apply(q, freqsCis);
        k = RotaryEmbedding.Apply(k, freqsCis);
        var attended = DiTAttention.GroupedAttention(q, k, v, keyMask);
        return @out.forward(attended).MoveToOuterDisposeScope();
    }
}
