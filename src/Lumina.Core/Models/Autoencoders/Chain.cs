using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.Autoencoders;

/// <summary>
/// Runs modules one after another and frees each intermediate as soon as the next one has consumed it, so a deep
/// stack holds only two activations at a time (what makes a large untiled decode fit at all).
/// </summary>
internal static class Chain
{
    /// <summary>Applies <paramref name="module"/> to <paramref name="current"/>; disposes <paramref name="current"/>
    /// afterwards unless it is the caller's <paramref name="input"/>.</summary>
    public static Tensor Step(Tensor current, Tensor input, nn.Module<Tensor, Tensor> module)
    {
        var next = module.forward(current);
        if (!ReferenceEquals(current, input)) current.Dispose();
        return next;
    }
}
