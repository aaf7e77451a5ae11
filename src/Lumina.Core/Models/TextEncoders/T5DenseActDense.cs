using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// T5's feed-forward (<c>DenseReluDense</c> in the checkpoints): gated <c>wo(act(wi_0 x) · wi_1 x)</c> for T5 v1.1 and
/// FLAN-T5, or plain <c>wo(act(wi x))</c> for T5 v1.0.
/// </summary>
internal sealed class T5DenseActDense : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Linear? wi;
    private readonly Linear? wi_0;
    private readonly Linear? wi_1;
    private readonly Linear wo;
#pragma warning restore IDE1006
    private readonly Func<Tensor, Tensor> _activation;

    public T5DenseActDense(T5Config config, Device? device, ScalarType dtype)
        : base(nameof(T5DenseActDense))
    {
        if (config.IsGated)
        {
            wi_0 = ModuleFactory.Linear(config.DModel, config.DFf, false, device, dtype);
            wi_1 = ModuleFactory.Linear(config.DModel, config.DFf, false, device, dtype);
        }
        else
        {
            wi = ModuleFactory.Linear(config.DModel, config.DFf, false, device, dtype);
        }

        wo = ModuleFactory.Linear(config.DFf, config.DModel, false, device, dtype);
        _activation = Activations.Get(config.ActivationName);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var hidden = wi is not null
            ? _activation(wi.forward(x))
            : _activation(wi_0!.forward(x)) * wi_1!.forward(x);
        return wo.forward(hidden.to(wo.weight!.dtype)).MoveToOuterDisposeScope();
    }
}
