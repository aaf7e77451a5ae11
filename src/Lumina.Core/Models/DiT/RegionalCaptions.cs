using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// The conditioning of compositional generation (upstream <c>lumina_next_compositional_generation</c>): the latent's
/// patch grid is cut into <see cref="Rows"/>×<see cref="Cols"/> equal regions, region r (row-major: row r / Cols,
/// column r % Cols) cross-attends only to caption r, and adaLN reads the pooled <see cref="GlobalFeatures"/>.
/// The record does not own the tensors.
/// </summary>
/// <param name="RegionFeatures">Region caption features [B, Rows·Cols, L, CaptionDim] (the captions padded to one length L).</param>
/// <param name="RegionMask">Region caption masks [B, Rows·Cols, L] (1 = token, 0 = padding); every caption needs a token.</param>
/// <param name="GlobalFeatures">Global caption features [B, Lg, CaptionDim] (pooled for adaLN).</param>
/// <param name="GlobalMask">Global caption mask [B, Lg].</param>
/// <param name="Rows">Regions stacked vertically (upstream <c>h_split_num</c>).</param>
/// <param name="Cols">Regions side by side (upstream <c>w_split_num</c>).</param>
public sealed record RegionalCaptions(Tensor RegionFeatures, Tensor RegionMask, Tensor GlobalFeatures, Tensor GlobalMask, int Rows, int Cols)
{
    /// <summary>Number of regions (Rows·Cols).</summary>
    public int RegionCount => Rows * Cols;

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the first inconsistent part, for a batch of
    /// <paramref name="batch"/> latents and captions <paramref name="captionDim"/> wide.
    /// </summary>
    public void Validate(long batch, long captionDim)
    {
        ArgumentNullException.ThrowIfNull(RegionFeatures);
        ArgumentNullException.ThrowIfNull(RegionMask);
        if (Rows < 1) throw new ArgumentOutOfRangeException(nameof(Rows), Rows, "A region grid needs at least one row.");
        if (Cols < 1) throw new ArgumentOutOfRangeException(nameof(Cols), Cols, "A region grid needs at least one column.");
        if (RegionFeatures.dim() != 4 || RegionFeatures.shape[0] != batch || RegionFeatures.shape[1] != RegionCount || RegionFeatures.shape[3] != captionDim)
            throw new ArgumentException(
                $"Region features must be [B, Rows·Cols, L, {captionDim}] = [{batch}, {RegionCount}, L, {captionDim}] for a {Rows}×{Cols} grid; got {DiTInputs.Shape(RegionFeatures)}.",
                nameof(RegionFeatures));
        if (RegionMask.dim() != 3 || RegionMask.shape[0] != batch || RegionMask.shape[1] != RegionCount || RegionMask.shape[2] != RegionFeatures.shape[2])
            throw new ArgumentException(
                $"The region mask must be [B, Rows·Cols, L] = [{batch}, {RegionCount}, {RegionFeatures.shape[2]}]; got {DiTInputs.Shape(RegionMask)}.",
                nameof(RegionMask));
        using (NewDisposeScope())
            if (!DiTInputs.BoolMask(RegionMask).any(-1).all().item<bool>())
                throw new ArgumentException("Every region caption needs at least one unmasked token (an empty prompt still has BOS).", nameof(RegionMask));
        ArgumentNullException.ThrowIfNull(GlobalFeatures);
        ArgumentNullException.ThrowIfNull(GlobalMask);
        Nn.CaptionEmbedder.ValidateCaption(GlobalFeatures, GlobalMask);
        if (GlobalFeatures.shape[0] != batch || GlobalFeatures.shape[2] != captionDim)
            throw new ArgumentException(
                $"Global caption features must be [B, Lg, {captionDim}] with B = {batch}; got {DiTInputs.Shape(GlobalFeatures)}.", nameof(GlobalFeatures));
    }
}
