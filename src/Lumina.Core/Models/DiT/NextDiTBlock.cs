using Lumina.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// One Next-DiT block: sandwich RMSNorms, tanh-gated residuals and scale-only adaLN (4·dim: scale_msa, gate_msa,
/// scale_mlp, gate_mlp).
/// <code>
/// x += tanh(gate_msa) · attention_norm2(attention(attention_norm1(x)·(1+scale_msa), attention_y_norm(cap)))
/// x += tanh(gate_mlp) · ffn_norm2(feed_forward(ffn_norm1(x)·(1+scale_mlp)))
/// </code>
/// </summary>
internal sealed class NextDiTBlock : nn.Module
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly DiTAttention attention;
    private readonly SwiGluFeedForward feed_forward;
    private readonly RmsNorm attention_norm1;
    private readonly RmsNorm ffn_norm1;
    private readonly RmsNorm attention_norm2;
    private readonly RmsNorm ffn_norm2;
    private readonly AdaLNModulation adaLN_modulation;
    private readonly RmsNorm attention_y_norm;
#pragma warning restore IDE1006

    /// <summary>Creates a block from the model configuration.</summary>
    public NextDiTBlock(NextDiTConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(NextDiTBlock))
    {
        ArgumentNullException.ThrowIfNull(config);
        var dim = config.Dim;
        attention = new DiTAttention(dim, config.Heads, config.KvHeads, config.QkNorm, config.CaptionDim, device, dtype);
        feed_forward = new SwiGluFeedForward(dim, config.MultipleOf, config.FfnDimMultiplier, device, dtype);
        attention_norm1 = new RmsNorm(dim, config.NormEps, device, dtype);
        ffn_norm1 = new RmsNorm(dim, config.NormEps, device, dtype);
        attention_norm2 = new RmsNorm(dim, config.NormEps, device, dtype);
        ffn_norm2 = new RmsNorm(dim, config.NormEps, device, dtype);
        adaLN_modulation = new AdaLNModulation(Math.Min(dim, 1024), 4 * dim, device, dtype);
        attention_y_norm = new RmsNorm(config.CaptionDim, config.NormEps, device, dtype);
        RegisterComponents();
    }

    /// <summary>The block's attention.</summary>
    public DiTAttention Attention => attention;

    /// <summary>
    /// The attention input this block would compute: <c>attention_norm1(x)·(1 + scale_msa)</c>, the cheap
    /// timestep-modulated signal step caching compares between calls.
    /// </summary>
    /// <param name="x">Tokens [B, N, dim].</param>
    /// <param name="adalnInput">Conditioning [B, min(dim, 1024)].</param>
    public Tensor ModulatedInput(Tensor x, Tensor adalnInput)
    {
        using var scope = NewDisposeScope();
        var scaleMsa = adaLN_modulation.forward(adalnInput).chunk(4, 1)[0];
        return attention_norm1.NormalizeAndScale(x, scaleMsa).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="x">Tokens [B, N, dim].</param>
    /// <param name="xMask">Key mask [B, N] for padded tokens, or null.</param>
    /// <param name="freqsCis">Rotary table [N, hd/2] or [B, N, hd/2].</param>
    /// <param name="caption">Raw caption features [B, L, capDim] (normed here).</param>
    /// <param name="captionMask">Caption key mask [B, L], or null when every token is real.</param>
    /// <param name="adalnInput">Conditioning [B, min(dim, 1024)].</param>
    /// <param name="softmaxScale">Self-attention scale (null = 1/sqrt(hd)).</param>
    public Tensor Forward(Tensor x, Tensor? xMask, Tensor freqsCis, Tensor caption, Tensor? captionMask, Tensor adalnInput, double? softmaxScale)
    {
        using var scope = NewDisposeScope();
        var mods = adaLN_modulation.forward(adalnInput).chunk(4, 1);
        var (scaleMsa, gateMsa, scaleMlp, gateMlp) = (mods[0], mods[1], mods[2], mods[3]);

        // Norm, modulation and gate are folded into per-sample gains, so each norm costs two passes over the tokens.
        var attnIn = attention_norm1.NormalizeAndScale(x, scaleMsa);
        var attnOut = attention.Forward(attnIn, xMask, freqsCis, attention_y_norm.forward(caption), captionMask, softmaxScale);
        x = attention_norm2.GatedResidual(x, attnOut, gateMsa.tanh());

        var ffnOut = feed_forward.forward(ffn_norm1.NormalizeAndScale(x, scaleMlp));
        x = ffn_norm2.GatedResidual(x, ffnOut, gateMlp.tanh());
        return x.MoveToOuterDisposeScope();
    }
}
