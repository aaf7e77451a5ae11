using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// Which of the two KL autoencoders a block belongs to. They share every block (<see cref="VaeCoder"/>,
/// <see cref="VaeStage"/>, <see cref="VaeMidBlock"/>, <see cref="VaeResnetBlock"/>, <see cref="Resampler"/>) and differ
/// in the number of spatial axes and in the checkpoint names of the parts.
/// </summary>
internal enum VaeLayout
{
    /// <summary>The image VAE over (B, C, H, W), with diffusers keys (<c>down_blocks.i.resnets.j</c>, <c>mid_block</c>, …).</summary>
    Diffusers2D,

    /// <summary>The mel VAE over (B, C, T), with the upstream Lumina-Music keys (<c>down.i.block.j</c>, <c>mid.block_1</c>, …).</summary>
    Upstream1D,
}

/// <summary>
/// A VAE block whose parts are registered under names chosen at construction (the layout's checkpoint keys) instead
/// of its field names.
/// </summary>
internal abstract class KeyedVaeModule(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>Spatial axes of a layout.</summary>
    protected static int Dims(VaeLayout layout) => layout == VaeLayout.Diffusers2D ? 2 : 1;

    /// <summary>Registers nothing by field name: constructors register every part under its checkpoint name.</summary>
    protected override void RegisterComponents()
    {
    }
}
