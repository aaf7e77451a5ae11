using TorchSharp;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// One pre-norm decoder layer. LLaMA and Gemma: <c>x + attn(norm(x))</c>, then <c>x + mlp(norm(x))</c>, where the
/// second norm is called <c>post_attention_layernorm</c> in the checkpoints. Gemma 2 adds sandwich norms:
/// <c>x + post_attention_layernorm(attn(input_layernorm(x)))</c>, then
/// <c>x + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x)))</c>.
/// </summary>
internal sealed class DecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly DecoderAttention self_attn;
    private readonly GatedMlp mlp;
    private readonly DecoderRmsNorm input_layernorm;
    private readonly DecoderRmsNorm post_attention_layernorm;
    private readonly DecoderRmsNorm? pre_feedforward_layernorm;
    private readonly DecoderRmsNorm? post_feedforward_layernorm;
#pragma warning restore IDE1006

    public DecoderLayer(DecoderSpec spec, Device? device, ScalarType dtype)
        : base(nameof(DecoderLayer))
    {
        self_attn = new DecoderAttention(spec, device, dtype);
        mlp = new GatedMlp(spec, device, dtype);
        input_layernorm = new DecoderRmsNorm(spec.Config.HiddenSize, spec.Config.RmsNormEps, spec.NormUnitOffset, device, dtype);
        post_attention_layernorm = new DecoderRmsNorm(spec.Config.HiddenSize, spec.Config.RmsNormEps, spec.NormUnitOffset, device, dtype);
        if (spec.SandwichNorms)
        {
            pre_feedforward_layernorm = new DecoderRmsNorm(spec.Config.HiddenSize, spec.Config.RmsNormEps, spec.NormUnitOffset, device, dtype);
            post_feedforward_layernorm = new DecoderRmsNorm(spec.Config.HiddenSize, spec.Config.RmsNormEps, spec.NormUnitOffset, device, dtype);
        }

        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        Tensor result;
        if (pre_feedforward_layernorm is null || post_feedforward_layernorm is null)
        {
            var h = x + self_attn.forward(input_layernorm.forward(x), cos, sin, mask);
            result = h + mlp.forward(post_attention_layernorm.forward(h));
        }
        else
        {
            var h = x + post_attention_layernorm.forward(self_attn.forward(input_layernorm.forward(x), cos, sin, mask));
            result = h + post_feedforward_layernorm.forward(mlp.forward(pre_feedforward_layernorm.forward(h)));
        }

        return result.MoveToOuterDisposeScope();
    }
}
