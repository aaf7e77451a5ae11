using Lumina.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Lumina.Models.TextEncoders;

/// <summary>
/// Causal self-attention of the LLaMA family with grouped/multi-query key-value heads, rotary positions and optional
/// logit soft-capping (Gemma 2). Written out (matmul, additive mask, fp32 softmax) like upstream's eager path, which
/// the reference tensors come from.
/// </summary>
internal sealed class DecoderAttention : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Linear q_proj;
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear o_proj;
#pragma warning restore IDE1006
    private readonly DecoderSpec _spec;

    public DecoderAttention(DecoderSpec spec, Device? device, ScalarType dtype)
        : base(nameof(DecoderAttention))
    {
        _spec = spec;
        q_proj = ModuleFactory.Linear(spec.Config.HiddenSize, spec.Config.NumAttentionHeads * spec.Config.HeadWidth, spec.Config.AttentionBias, device, dtype);
        k_proj = ModuleFactory.Linear(spec.Config.HiddenSize, spec.Config.KeyValueHeadCount * spec.Config.HeadWidth, spec.Config.AttentionBias, device, dtype);
        v_proj = ModuleFactory.Linear(spec.Config.HiddenSize, spec.Config.KeyValueHeadCount * spec.Config.HeadWidth, spec.Config.AttentionBias, device, dtype);
        o_proj = ModuleFactory.Linear(spec.Config.NumAttentionHeads * spec.Config.HeadWidth, spec.Config.HiddenSize, spec.Config.AttentionBias, device, dtype);
        RegisterComponents();
    }

    /// <param name="x">Hidden states <c>[B, L, hidden]</c>.</param>
    /// <param name="cos">RoPE cos <c>[L, head_dim]</c>.</param>
    /// <param name="sin">RoPE sin <c>[L, head_dim]</c>.</param>
    /// <param name="mask">Additive mask <c>[B, 1, L, L]</c> (0 where allowed, the dtype minimum elsewhere).</param>
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], l = x.shape[1];
        int h = _spec.Config.NumAttentionHeads, kv = _spec.Config.KeyValueHeadCount, d = _spec.Config.HeadWidth;

        var q = q_proj.forward(x).view(b, l, h, d).transpose(1, 2);
        var k = k_proj.forward(x).view(b, l, kv, d).transpose(1, 2);
        var v = v_proj.forward(x).view(b, l, kv, d).transpose(1, 2);

        q = RotaryTable.Apply(q, cos, sin);
        k = RotaryTable.Apply(k, cos, sin);

        if (kv != h)
        {
            // Query head i reads key-value head i / (h / kv), as repeat_kv does upstream.
            int rep = h / kv;
            k = k.unsqueeze(2).expand(b, kv, rep, l, d).reshape(b, h, l, d);
            v = v.unsqueeze(2).expand(b, kv, rep, l, d).reshape(b, h, l, d);
        }

        var scores = torch.matmul(q, k.transpose(2, 3)) * _spec.AttentionScale;
        if (_spec.AttentionLogitSoftcap is { } cap)
        {
            scores = (scores / cap).tanh() * cap;
        }

        scores = scores + mask;
        var probs = scores.softmax(-1, ScalarType.Float32).to(q.dtype);
        var attended = torch.matmul(probs, v).transpose(1, 2).reshape(b, l, h * d);
        return o_proj.forward(attended).MoveToOuterDisposeScope();
    }
}
