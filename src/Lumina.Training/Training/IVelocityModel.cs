using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>
/// What <see cref="FlowMatchingTrainer"/> needs from a diffusion transformer: a module whose <c>state_dict()</c> is the
/// checkpoint (upstream key names), and a velocity prediction v(x_t, t, caption). Adapt a model with
/// <see cref="NextDiTVelocityModel"/> or implement this for another DiT.
/// </summary>
public interface IVelocityModel
{
    /// <summary>The trainable module; its parameters are optimised and its state dict is what checkpoints hold.</summary>
    nn.Module Module { get; }

    /// <summary>Predicts the velocity x1 − x0.</summary>
    /// <param name="x">Noisy inputs x_t [B, C, H, W].</param>
    /// <param name="t">Times [B] in [0, 1] (0 = noise, 1 = data).</param>
    /// <param name="captionFeatures">Caption features [B, L, D].</param>
    /// <param name="captionMask">Caption mask [B, L] (1 = token).</param>
    /// <returns>The velocity, same shape as <paramref name="x"/>.</returns>
    Tensor Velocity(Tensor x, Tensor t, Tensor captionFeatures, Tensor captionMask);
}
