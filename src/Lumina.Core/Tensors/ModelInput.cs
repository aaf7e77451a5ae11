using TorchSharp;

namespace Lumina.Tensors;

/// <summary>
/// The one check of a channels-first model input, (B, C, spatial…): not null, the expected rank and channel count,
/// no empty spatial axis, floating point. Messages name the shape that was given and the one expected.
/// </summary>
internal static class ModelInput
{
    /// <summary>Throws when <paramref name="x"/> is not a floating-point (B, <paramref name="channels"/>, …) tensor of the layout's rank.</summary>
    /// <param name="x">The input.</param>
    /// <param name="paramName">The argument's name.</param>
    /// <param name="what">What the input is, plural and capitalised as it starts the dtype message ("Latents", "Mel spectrograms").</param>
    /// <param name="layout">The expected axes after B and C, as the message shows them ("H, W", "t").</param>
    /// <param name="channels">The channel count C.</param>
    /// <param name="dtypeAdvice">Appended to the dtype message, e.g. how to convert.</param>
    /// <exception cref="ArgumentException">The shape or dtype is wrong.</exception>
    public static void RequireChannelsFirst(torch.Tensor? x, string paramName, string what, string layout, long channels, string dtypeAdvice = "")
    {
        ArgumentNullException.ThrowIfNull(x, paramName);
        var rank = 2 + layout.Split(',').Length;
        if (x.dim() != rank || x.shape[1] != channels || x.shape.Skip(2).Any(n => n == 0))
            throw new ArgumentException($"Expected {what.ToLowerInvariant()} shaped (B, {channels}, {layout}); got [{string.Join(", ", x.shape)}].", paramName);
        if (!x.is_floating_point())
            throw new ArgumentException($"{what} must be floating point; got {x.dtype}.{dtypeAdvice}", paramName);
    }
}
