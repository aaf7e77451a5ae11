using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>The activation functions named in Hugging Face configs (<c>hidden_act</c>, <c>hidden_activation</c>).</summary>
internal static class Activations
{
    private static readonly double GeluNewScale = Math.Sqrt(2.0 / Math.PI);

    /// <summary>Returns the function for a Hugging Face activation name.</summary>
    public static Func<Tensor, Tensor> Get(string name) => name switch
    {
        "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "gelu" => x => nn.functional.gelu(x),
        // Hugging Face's NewGELUActivation writes the tanh formula out instead of calling the fused kernel.
        "gelu_new" or "gelu_fast" => GeluNew,
        "silu" or "swish" => x => nn.functional.silu(x),
        "relu" => x => nn.functional.relu(x),
        _ => throw new NotSupportedException(
            $"Activation '{name}' is not supported; use gelu_pytorch_tanh, gelu, gelu_new, silu or relu."),
    };

    /// <summary>Throws unless <paramref name="name"/> is supported.</summary>
    public static string Validate(string name)
    {
        _ = Get(name);
        return name;
    }

    private static Tensor GeluNew(Tensor x)
    {
        using var cube = x.pow(3.0);
        using var inner = x + cube * 0.044715;
        using var scaled = inner * GeluNewScale;
        using var t = scaled.tanh();
        using var onePlus = t + 1.0;
        using var half = x * 0.5;
        return half * onePlus;
    }
}
