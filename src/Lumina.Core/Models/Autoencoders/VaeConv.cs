using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// The convolution of a VAE over (B, C, T) or (B, C, H, W): one place that picks <c>Conv1d</c> or <c>Conv2d</c> for the
/// dimension, so the mel VAE and the image VAE share their blocks (parameters <c>weight</c>, <c>bias</c> either way).
/// </summary>
internal static class VaeConv
{
    /// <summary>A kernel-<paramref name="kernelSize"/> convolution over <paramref name="dims"/> spatial axes.</summary>
    /// <param name="dims">1 (time) or 2 (height, width).</param>
    /// <param name="inChannels">Channels in.</param>
    /// <param name="outChannels">Channels out.</param>
    /// <param name="kernelSize">Kernel along every axis.</param>
    /// <param name="stride">Stride along every axis.</param>
    /// <param name="padding">Zero padding on both sides of every axis.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="dtype">Parameter element type; null keeps float32.</param>
    public static nn.Module<Tensor, Tensor> Create(int dims, long inChannels, long outChannels, int kernelSize, int stride = 1, int padding = 0,
        Device? device = null, ScalarType? dtype = null) => dims switch
        {
            1 => nn.Conv1d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, device: device, dtype: dtype),
            2 => nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, device: device, dtype: dtype),
            _ => throw new ArgumentOutOfRangeException(nameof(dims), dims, "A VAE convolution runs over 1 or 2 spatial axes."),
        };

    /// <summary>"Same" convolution: odd kernel, stride 1, padding kernel / 2.</summary>
    public static nn.Module<Tensor, Tensor> Same(int dims, long inChannels, long outChannels, int kernelSize, Device? device = null, ScalarType? dtype = null) =>
        Create(dims, inChannels, outChannels, kernelSize, padding: kernelSize / 2, device: device, dtype: dtype);
}
