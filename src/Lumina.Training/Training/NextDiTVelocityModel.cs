using Lumina.Models.DiT;
using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Training;

/// <summary>Presents a <see cref="NextDiT"/> to the trainer (the learned-sigma half of the output is dropped, as upstream trains).</summary>
public sealed class NextDiTVelocityModel : IVelocityModel
{
    private readonly NextDiTForwardOptions? _options;

    /// <summary>Wraps <paramref name="model"/>.</summary>
    /// <param name="model">The Next-DiT to train.</param>
    /// <param name="options">Forward options (null = the model defaults, as upstream trains).</param>
    public NextDiTVelocityModel(NextDiT model, NextDiTForwardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _options = options;
    }

    /// <summary>The wrapped model.</summary>
    public NextDiT Model { get; }

    /// <inheritdoc />
    public nn.Module Module => Model;

    /// <inheritdoc />
    public Tensor Velocity(Tensor x, Tensor t, Tensor captionFeatures, Tensor captionMask)
        => Model.Forward(x, t, captionFeatures, captionMask, _options);
}
