using Lumina.Models.TextEncoders;
using Lumina.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>Input checks and sequence packing shared by the Lumina DiTs.</summary>
internal static class DiTInputs
{
    public static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

    /// <summary>
    /// The per-sample captions of a DiT call for a model without a regional (compositional) forward: refuses regional
    /// captions with <paramref name="noRegions"/> (what the model is and what to use instead) and a missing caption.
    /// </summary>
    public static CaptionEmbeddings RequireCaptions(DiTInput input, string noRegions)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Regions is not null) throw new NotSupportedException(noRegions);
        return input.Captions ?? throw new ArgumentException("The DiT input carries no captions; set DiTInput.Captions.", nameof(input));
    }

    public static void ValidateConditioning(long batch, Tensor t, Tensor captionFeatures, Tensor captionMask, long captionDim)
    {
        ArgumentNullException.ThrowIfNull(t);
        ArgumentNullException.ThrowIfNull(captionFeatures);
        ArgumentNullException.ThrowIfNull(captionMask);
        if (t.dim() != 1 || t.shape[0] != batch)
            throw new ArgumentException($"Timesteps must be [B] = [{batch}]; got {Shape(t)}.", nameof(t));
        CaptionEmbedder.ValidateCaption(captionFeatures, captionMask);
        if (captionFeatures.shape[0] != batch || captionFeatures.shape[2] != captionDim)
            throw new ArgumentException($"Caption features must be [B, L, {captionDim}] with B = {batch}; got {Shape(captionFeatures)}.", nameof(captionFeatures));
    }

    /// <summary>Stacks sequences of different lengths, padding each with <paramref name="padToken"/>; the mask is null when no padding was needed.</summary>
    public static (Tensor Tokens, Tensor? Mask, long[] Lengths) Pad(IReadOnlyList<Tensor> sequences, Tensor padToken)
    {
        var lengths = sequences.Select(e => e.shape[0]).ToArray();
        var maxLen = lengths.Max();
        var padded = new List<Tensor>(sequences.Count);
        for (var i = 0; i < sequences.Count; i++)
        {
            var extra = maxLen - lengths[i];
            padded.Add(extra == 0 ? sequences[i] : cat([sequences[i], padToken.view(1, -1).expand(extra, -1)], 0));
        }
        var tokens = stack(padded, 0);
        Tensor? mask = null;
        if (lengths.Any(l => l != maxLen))
            mask = arange(maxLen, device: tokens.device).unsqueeze(0) < tensor(lengths, device: tokens.device).unsqueeze(1);
        return (tokens, mask, lengths);
    }

    public static Tensor BoolMask(Tensor mask) => mask.dtype == ScalarType.Bool ? mask : mask.ne(0);

    /// <summary>The caption key mask for attention: null when no token is masked (faster kernels, same result).</summary>
    public static Tensor? KeyMaskOrNull(Tensor mask)
    {
        var m = BoolMask(mask);
        return m.all().item<bool>() ? null : m;
    }
}
