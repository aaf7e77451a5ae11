using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// Pools caption features with the caption mask and projects them: <c>Sequential(LayerNorm(capDim), Linear(capDim→out))</c>.
/// Checkpoint keys <c>0.weight</c>, <c>0.bias</c>, <c>1.weight</c>, <c>1.bias</c> (under <c>cap_embedder</c>).
/// </summary>
internal sealed class CaptionEmbedder : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "0")]
    private readonly LayerNorm norm;
    [ComponentName(Name = "1")]
    private readonly Linear proj;

    /// <summary>Creates the embedder.</summary>
    /// <param name="captionDim">Width of the text-encoder features.</param>
    /// <param name="outputDim">Output width (min(dim, 1024) in the image DiTs).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public CaptionEmbedder(long captionDim, long outputDim, Device? device = null, ScalarType? dtype = null)
        : base(nameof(CaptionEmbedder))
    {
        CaptionDim = captionDim;
        norm = nn.LayerNorm(captionDim, eps: 1e-5, elementwise_affine: true, bias: true, device: device, dtype: dtype);
        proj = nn.Linear(captionDim, outputDim, hasBias: true, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Width of the caption features.</summary>
    public long CaptionDim { get; }

    /// <summary>
    /// Masked mean over tokens, computed in float32 and cast back: <c>Σ(cap·mask)/Σ mask</c>. Shapes: features
    /// [B, L, C], mask [B, L] (any numeric or bool dtype; nonzero = keep).
    /// </summary>
    public static Tensor MaskedMeanPool(Tensor features, Tensor mask)
    {
        ValidateCaption(features, mask);
        using var scope = NewDisposeScope();
        var m = mask.to_type(ScalarType.Float32).unsqueeze(-1);
        var pooled = (features * m).sum(1) / m.sum(1);
        return pooled.to_type(features.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Projects already pooled caption features [B, C] to [B, out].</summary>
    public override Tensor forward(Tensor pooled)
    {
        using var scope = NewDisposeScope();
        return proj.forward(norm.forward(pooled)).MoveToOuterDisposeScope();
    }

    /// <summary>Pools (see <see cref="MaskedMeanPool"/>) and projects caption features [B, L, C] with mask [B, L].</summary>
    public Tensor Embed(Tensor features, Tensor mask)
    {
        using var scope = NewDisposeScope();
        return forward(MaskedMeanPool(features, mask)).MoveToOuterDisposeScope();
    }

    internal static void ValidateCaption(Tensor features, Tensor mask)
    {
        if (features.dim() != 3)
            throw new ArgumentException($"Caption features must be [B, L, C]; got [{string.Join(", ", features.shape)}].", nameof(features));
        if (mask.dim() != 2 || mask.shape[0] != features.shape[0] || mask.shape[1] != features.shape[1])
            throw new ArgumentException(
                $"The caption mask must be [B, L] = [{features.shape[0]}, {features.shape[1]}] to match the features; got [{string.Join(", ", mask.shape)}].",
                nameof(mask));
    }
}
