using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>The gated MLP of the LLaMA family: <c>down(act(gate(x)) · up(x))</c>.</summary>
internal sealed class GatedMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Linear gate_proj;
    private readonly Linear up_proj;
    private readonly Linear down_proj;
#pragma warning restore IDE1006
    private readonly Func<Tensor, Tensor> _activation;

    public GatedMlp(DecoderSpec spec, Device? device, ScalarType dtype)
        : base(nameof(GatedMlp))
    {
        gate_proj = ModuleFactory.Linear(spec.Config.HiddenSize, spec.Config.IntermediateSize, spec.MlpBias, device, dtype);
        up_proj = ModuleFactory.Linear(spec.Config.HiddenSize, spec.Config.IntermediateSize, spec.MlpBias, device, dtype);
        down_proj = ModuleFactory.Linear(spec.Config.IntermediateSize, spec.Config.HiddenSize, spec.MlpBias, device, dtype);
        _activation = Activations.Get(spec.Activation);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var gated = _activation(gate_proj.forward(x)) * up_proj.forward(x);
        return down_proj.forward(gated).MoveToOuterDisposeScope();
    }
}
