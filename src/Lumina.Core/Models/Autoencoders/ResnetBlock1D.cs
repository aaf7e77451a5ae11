using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The 1-D residual block of the mel VAE (upstream <c>ResnetBlock1D</c>, no time embedding): GroupNorm(32, eps 1e-6),
/// SiLU, conv1, GroupNorm, SiLU, conv2, plus the input (through the 1×1 <c>nin_shortcut</c> when channels change).
/// </summary>
internal sealed class ResnetBlock1D : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Field names are the checkpoint keys.
    private readonly GroupNorm norm1;
    private readonly Conv1d conv1;
    private readonly GroupNorm norm2;
    private readonly Conv1d conv2;
    private readonly Conv1d? nin_shortcut;
#pragma warning restore IDE1006

    /// <summary>Builds the block.</summary>
    /// <param name="inChannels">Channels in.</param>
    /// <param name="outChannels">Channels out.</param>
    /// <param name="kernelSize">Odd convolution kernel ("same" padding).</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public ResnetBlock1D(int inChannels, int outChannels, int kernelSize, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ResnetBlock1D))
    {
        norm1 = nn.GroupNorm(32, inChannels, eps: 1e-6, device: device, dtype: dtype);
        conv1 = nn.Conv1d(inChannels, outChannels, kernelSize, padding: kernelSize / 2, device: device, dtype: dtype);
        norm2 = nn.GroupNorm(32, outChannels, eps: 1e-6, device: device, dtype: dtype);
        conv2 = nn.Conv1d(outChannels, outChannels, kernelSize, padding: kernelSize / 2, device: device, dtype: dtype);
        if (inChannels != outChannels)
            nin_shortcut = nn.Conv1d(inChannels, outChannels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = norm1.forward(x);
        nn.functional.silu(h, inplace: true);
        h = conv1.forward(h);
        h = norm2.forward(h);
        nn.functional.silu(h, inplace: true);
        h = conv2.forward(h);
        var shortcut = nin_shortcut is null ? x : nin_shortcut.forward(x);
        return h.add_(shortcut).MoveToOuterDisposeScope();
    }
}
