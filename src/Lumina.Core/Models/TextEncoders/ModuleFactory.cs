using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Creates linear layers and embedding tables so that the meta device really allocates nothing.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>nn.Linear(…, device)</c> and <c>nn.Embedding(…, device)</c> first create and randomly initialise
/// the parameters on the CPU and then move them (measured: about 330 ms for one 2048×16384 linear on the meta device).
/// On the meta device the modules are therefore built from empty meta tensors; elsewhere the usual constructors and
/// initialisation are kept.
/// </remarks>
internal static class ModuleFactory
{
    public static Linear Linear(long inputs, long outputs, bool hasBias, Device? device, ScalarType dtype)
    {
        if (device?.type == DeviceType.META)
        {
            var weight = new Parameter(torch.empty(outputs, inputs, dtype: dtype, device: device));
            var bias = hasBias ? new Parameter(torch.empty(outputs, dtype: dtype, device: device)) : null;
            return nn.Linear(weight, bias);
        }

        return nn.Linear(inputs, outputs, hasBias: hasBias, device: device, dtype: dtype);
    }

    public static Embedding Embedding(long count, long dim, Device? device, ScalarType dtype)
    {
        if (device?.type == DeviceType.META)
        {
            return nn.Embedding_from_pretrained(torch.empty(count, dim, dtype: dtype, device: device), freeze: false);
        }

        return nn.Embedding(count, dim, device: device, dtype: dtype);
    }
}
