using Lumina.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// One Flag-DiT block (also the music/audio DiT's): pre-norm RMSNorms, 6-way adaLN (shift/scale/gate for attention and
/// FFN), plain (untanh'ed) gates, no sandwich norm.
/// <code>
/// x += gate_msa · attention(attention_norm(x)·(1+scale_msa)+shift_msa, attention_y_norm(cap))
/// x += gate_mlp · feed_forward(ffn_norm(x)·(1+scale_mlp)+shift_mlp)
/// </code>
/// </summary>
internal sealed class FlagDiTBlock : nn.Module
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly DiTAttention attention;
    private readonly SwiGluFeedForward feed_forward;
    private readonly RmsNorm attention_norm;
    private readonly RmsNorm ffn_norm;
    private readonly AdaLNModulation adaLN_modulation;
    private readonly RmsNorm attention_y_norm;
#pragma warning restore IDE1006

    /// <summary>Creates a block.</summary>
    /// <param name="dim">Model width.</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="kvHeads">KV heads (null = heads).</param>
    /// <param name="multipleOf">FFN rounding.</param>
    /// <param name="ffnDimMultiplier">Optional FFN multiplier.</param>
    /// <param name="normEps">RMSNorm epsilon.</param>
    /// <param name="qkNorm">Joint-width LayerNorm QK-norm.</param>
    /// <param name="captionDim">Caption feature width.</param>
    /// <param name="conditionDim">adaLN input width (min(dim, 1024) for Flag-DiT, dim for the music DiT).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public FlagDiTBlock(long dim, int heads, int? kvHeads, int multipleOf, double? ffnDimMultiplier, double normEps, bool qkNorm,
        long captionDim, long conditionDim, Device? device = null, ScalarType? dtype = null) : base(nameof(FlagDiTBlock))
    {
        attention = new DiTAttention(dim, heads, kvHeads, qkNorm, captionDim, device, dtype);
        feed_forward = new SwiGluFeedForward(dim, multipleOf, ffnDimMultiplier, device, dtype);
        attention_norm = new RmsNorm(dim, normEps, device, dtype);
        ffn_norm = new RmsNorm(dim, normEps, device, dtype);
        adaLN_modulation = new AdaLNModulation(conditionDim, 6 * dim, device, dtype);
        attention_y_norm = new RmsNorm(captionDim, normEps, device, dtype);
        RegisterComponents();
    }

    /// <summary>The block's attention.</summary>
    public DiTAttention Attention => attention;

    /// <summary>Runs the block; arguments as in <see cref="NextDiTBlock.Forward"/>.</summary>
    public Tensor Forward(Tensor x, Tensor? xMask, Tensor freqsCis, Tensor caption, Tensor? captionMask, Tensor adalnInput, double? softmaxScale)
    {
        using var scope = NewDisposeScope();
        var m = adaLN_modulation.forward(adalnInput).chunk(6, 1);
        var attnIn = attention_norm.NormalizeAndScale(x, m[1], m[0]);
        var attnOut = attention.Forward(attnIn, xMask, freqsCis, attention_y_norm.forward(caption), captionMask, softmaxScale);
        x = x.addcmul(m[2].unsqueeze(1), attnOut, 1);
        var ffnOut = feed_forward.forward(ffn_norm.NormalizeAndScale(x, m[4], m[3]));
        x = x.addcmul(m[5].unsqueeze(1), ffnOut, 1);
        return x.MoveToOuterDisposeScope();
    }
}
