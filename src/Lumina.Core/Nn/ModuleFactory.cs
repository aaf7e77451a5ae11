using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Nn;

/// <summary>
/// Creates linear layers and embedding tables so that the meta device really allocates nothing.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>nn.Linear(…, device)</c> and <c>nn.Embedding(…, device)</c> first create and randomly initialise
/// the parameters on the CPU and then move them (measured: about 330 ms for one 2048×16384 linear on the meta device).
/// On the meta device linear layers are therefore built from empty meta tensors, and embeddings are
/// <see cref="TokenEmbedding"/> tables. The same happens on any device inside
/// <see cref="SkipInitialization"/>, which <c>FromPretrained</c> uses because a strict load overwrites every parameter
/// (saving the random initialisation of billions of values). Elsewhere the usual constructors and initialisation are kept.
/// </remarks>
internal static class ModuleFactory
{
    [ThreadStatic]
    private static int _skipDepth;

    /// <summary>Until disposed, modules created on this thread get uninitialised (empty) parameters.</summary>
    public static IDisposable SkipInitialization()
    {
        _skipDepth++;
        return new Scope();
    }

    private static bool Empty(Device? device) => device?.type == DeviceType.META || _skipDepth > 0;

    public static Linear Linear(long inputs, long outputs, bool hasBias, Device? device, ScalarType? dtype)
    {
        if (Empty(device))
        {
            var type = dtype ?? torch.get_default_dtype();
            var weight = new Parameter(torch.empty(outputs, inputs, dtype: type, device: device));
            var bias = hasBias ? new Parameter(torch.empty(outputs, dtype: type, device: device)) : null;
            return nn.Linear(weight, bias);
        }

        return nn.Linear(inputs, outputs, hasBias: hasBias, device: device, dtype: dtype);
    }

    public static TokenEmbedding Embedding(long count, long dim, Device? device, ScalarType dtype) =>
        new(count, dim, device, dtype, initialize: !Empty(device));

    private sealed class Scope : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _skipDepth--;
            }
        }
    }
}
