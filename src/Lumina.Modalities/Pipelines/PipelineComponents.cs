using Lumina.Models.Autoencoders;
using Lumina.Models.DiT;
using Lumina.Models.TextEncoders;

namespace Lumina.Pipelines;

/// <summary>
/// The checked components an image-space pipeline (image, compositional, video) is assembled from, held once so that
/// <see cref="TextToImagePipeline"/> and <see cref="Video.TextToVideoPipeline"/> expose the same parts the same way.
/// Built only by <see cref="ImageOutput.CheckComponents"/>, which validates that the parts fit each other.
/// </summary>
internal sealed record PipelineComponents(
    IDiffusionTransformer Transformer,
    ICaptionEncoder CaptionEncoder,
    IImageLatentSpace LatentSpace,
    SamplingSettings Settings,
    string ModelId)
{
    /// <summary>Pixels per latent cell times the patch size: width and height must be multiples of this.</summary>
    public int SizeMultiple => LatentSpace.DownscaleFactor * Transformer.PatchSize;
}
