using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>The middle of the mel VAE encoder/decoder: <c>block_1</c>, <c>attn_1</c>, <c>block_2</c>.</summary>
internal sealed class Vae1DMidBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly VaeResnetBlock block_1;
    private readonly AttnBlock1D attn_1;
    private readonly VaeResnetBlock block_2;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="channels">Channels in and out.</param>
    /// <param name="kernelSize">Resnet kernel.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public Vae1DMidBlock(int channels, int kernelSize, Device? device = null, ScalarType? dtype = null) : base(nameof(Vae1DMidBlock))
    {
        block_1 = new VaeResnetBlock(1, channels, channels, kernelSize, 32, ResnetShortcutKey.Nin, device, dtype);
        attn_1 = new AttnBlock1D(channels, device, dtype);
        block_2 = new VaeResnetBlock(1, channels, channels, kernelSize, 32, ResnetShortcutKey.Nin, device, dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = block_1.forward(x);
        h = attn_1.forward(h);
        return block_2.forward(h).MoveToOuterDisposeScope();
    }
}
