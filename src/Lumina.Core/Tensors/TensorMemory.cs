using System.Runtime.InteropServices;
using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// Raw access to a CPU tensor's buffer. TorchSharp's <c>Tensor.bytes</c> is a <see cref="Span{T}"/>, which cannot
/// describe buffers of 2 GiB or more (a Gemma embedding table in fp32 is 2.1 GB), so we ask LibTorchSharp for the
/// data pointer directly.
/// </summary>
internal static class TensorMemory
{
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);

    /// <summary>The address of the first element of a contiguous CPU tensor.</summary>
    public static unsafe byte* DataPointer(torch.Tensor tensor)
    {
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException("Raw access needs a CPU tensor.", nameof(tensor));
        if (!tensor.is_contiguous())
            throw new ArgumentException("Raw access needs a contiguous tensor.", nameof(tensor));
        return (byte*)THSTensor_data(tensor.Handle);
    }

    /// <summary>The number of bytes of a tensor's elements.</summary>
    public static long ByteLength(torch.Tensor tensor) => tensor.numel() * tensor.element_size();
}
