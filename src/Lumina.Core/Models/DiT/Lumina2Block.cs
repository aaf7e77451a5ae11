using Lumina.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// One Lumina-Image 2.0 block (upstream <c>JointTransformerBlock</c>): sandwich RMSNorms around the attention and the
/// SwiGLU feed-forward. A modulated block (the noise refiner and the main layers) scales the pre-norms and tanh-gates
/// the residuals from <c>adaLN_modulation</c> (scale_msa, gate_msa, scale_mlp, gate_mlp); an unmodulated block (the
/// context refiner) has neither.
/// <code>
/// x += tanh(gate_msa) · attention_norm2(attention(attention_norm1(x)·(1+scale_msa)))
/// x += tanh(gate_mlp) · ffn_norm2(feed_forward(ffn_norm1(x)·(1+scale_mlp)))
/// </code>
/// </summary>
internal sealed class Lumina2Block : nn.Module
{
#pragma warning disable IDE1006 // field names follow the checkpoint keys
    private readonly Lumina2Attention attention;
    private readonly SwiGluFeedForward feed_forward;
    private readonly RmsNorm attention_norm1;
    private readonly RmsNorm ffn_norm1;
    private readonly RmsNorm attention_norm2;
    private readonly RmsNorm ffn_norm2;
    private readonly AdaLNModulation? adaLN_modulation;
#pragma warning restore IDE1006

    /// <summary>Creates a block.</summary>
    /// <param name="config">The model configuration.</param>
    /// <param name="modulated">Whether the block has <c>adaLN_modulation</c> (false for the context refiner).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public Lumina2Block(Lumina2Config config, bool modulated, Device? device = null, ScalarType? dtype = null) : base(nameof(Lumina2Block))
    {
        ArgumentNullException.ThrowIfNull(config);
        var dim = config.Dim;
        attention = new Lumina2Attention(config, device, dtype);
        feed_forward = SwiGluFeedForward.WithHiddenSize(dim, config.FfnHiddenDim, device, dtype);
        attention_norm1 = new RmsNorm(dim, config.NormEps, device, dtype);
        ffn_norm1 = new RmsNorm(dim, config.NormEps, device, dtype);
        attention_norm2 = new RmsNorm(dim, config.NormEps, device, dtype);
        ffn_norm2 = new RmsNorm(dim, config.NormEps, device, dtype);
        if (modulated) adaLN_modulation = new AdaLNModulation(config.ConditionDim, 4L * dim, device, dtype);
        RegisterComponents();
    }

    /// <summary>Whether the block is timestep-modulated.</summary>
    public bool IsModulated => adaLN_modulation is not null;

    /// <summary>The block's attention.</summary>
    public Lumina2Attention Attention => attention;

    /// <summary>
    /// The attention input a modulated block computes, <c>attention_norm1(x)·(1 + scale_msa)</c>: the cheap
    /// timestep-modulated signal step caching compares between calls.
    /// </summary>
    public Tensor ModulatedInput(Tensor x, Tensor adalnInput)
    {
        if (adaLN_modulation is null) throw new InvalidOperationException("An unmodulated block has no modulated input.");
        using var scope = NewDisposeScope();
        var scaleMsa = adaLN_modulation.forward(adalnInput).chunk(4, 1)[0];
        return attention_norm1.NormalizeAndScale(x, scaleMsa).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="x">Tokens [B, N, dim].</param>
    /// <param name="keyMask">Key mask [B, N] (true = attend), or null.</param>
    /// <param name="freqsCis">Rotary table, complex64 [B, N, hd/2].</param>
    /// <param name="adalnInput">Conditioning [B, min(dim, 1024)] for a modulated block; null for an unmodulated one.</param>
    public Tensor Forward(Tensor x, Tensor? keyMask, Tensor freqsCis, Tensor? adalnInput)
    {
        if (IsModulated != adalnInput is not null)
            throw new ArgumentException(IsModulated ? "A modulated block needs the adaLN input." : "An unmodulated block takes no adaLN input.", nameof(adalnInput));
        using var scope = NewDisposeScope();
        if (adaLN_modulation is null)
        {
            x = x + attention_norm2.forward(attention.Forward(attention_norm1.forward(x), keyMask, freqsCis));
            x = x + ffn_norm2.forward(feed_forward.forward(ffn_norm1.forward(x)));
            return x.MoveToOuterDisposeScope();
        }
        var mods = adaLN_modulation.forward(adalnInput!).chunk(4, 1);
        var (scaleMsa, gateMsa, scaleMlp, gateMlp) = (mods[0], mods[1], mods[2], mods[3]);
        // Norm, modulation and gate fold into per-sample gains: each norm costs two passes over the tokens.
        var attnOut = attention.Forward(attention_norm1.NormalizeAndScale(x, scaleMsa), keyMask, freqsCis);
        x = attention_norm2.GatedResidual(x, attnOut, gateMsa.tanh());
        var ffnOut = feed_forward.forward(ffn_norm1.NormalizeAndScale(x, scaleMlp));
        x = ffn_norm2.GatedResidual(x, ffnOut, gateMlp.tanh());
        return x.MoveToOuterDisposeScope();
    }
}
